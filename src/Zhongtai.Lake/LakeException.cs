namespace Zhongtai.Lake;

/// <summary>A lake operation failed for a reason a person can act on (missing lake, bad checkpoint, bad SQL).</summary>
public class LakeException : Exception
{
    public LakeException() { }
    public LakeException(string message) : base(message) { }
    public LakeException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A Parquet file of the lake cannot be read; <see cref="FilePath"/> names it.</summary>
public sealed class LakeCorruptFileException : LakeException
{
    public LakeCorruptFileException() { }
    public LakeCorruptFileException(string message) : base(message) { }
    public LakeCorruptFileException(string message, Exception inner) : base(message, inner) { }

    public LakeCorruptFileException(string filePath, string reason, Exception? inner)
        : base($"Corrupt Parquet file in the lake: '{filePath}': {reason}", inner!)
    {
        FilePath = filePath;
    }

    /// <summary>The full path of the unreadable file.</summary>
    public string FilePath { get; } = "";
}
