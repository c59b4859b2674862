using System.Runtime.InteropServices;

namespace Zhongtai.Lake;

/// <summary>
/// Makes renames durable: on Unix a rename is only on disk once its directory is fsync'd. On Windows
/// (where directories cannot be opened for flushing) this is a no-op; NTFS journals the rename.
/// </summary>
internal static partial class DurableFile
{
    private const int ReadOnly = 0;

    /// <summary>fsyncs a directory so that the renames and creations in it survive a power loss.</summary>
    public static void SyncDirectory(string dir)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int fd = Open(dir, ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{dir}' to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{dir}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
