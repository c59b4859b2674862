using System.Runtime.InteropServices;

namespace Zhongtai.Indexing.Vector;

/// <summary>
/// fsync of a directory, so that a rename inside it survives a power loss (POSIX only; .NET cannot open a directory
/// as a file). Best effort: failures are ignored because the data file itself is already flushed.
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0;

    /// <summary>Returns whether the directory was fsynced.</summary>
    public static bool Flush(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return false;
        }
        try
        {
            int fd = Open(directory, ReadOnly);
            if (fd < 0)
            {
                return false;
            }
            bool ok = Fsync(fd) == 0;
            _ = Close(fd);
            return ok;
        }
        catch (DllNotFoundException)
        {
            // No libc under that name on this platform: skip the directory sync.
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Close(int fd);
}
