namespace Dsl.Data;

/// <summary>An IDX file that cannot be read: <see cref="Exception.Message"/> names the file and the reason.</summary>
public sealed class IdxFormatException : IOException
{
    /// <summary>Creates the exception for <paramref name="source"/>.</summary>
    public IdxFormatException(string source, string reason, Exception? inner = null)
        : base($"{source}: {reason}", inner)
    {
        FilePath = source;
        Reason = reason;
    }

    /// <summary>The file (or stream name) that was refused.</summary>
    public string FilePath { get; }

    /// <summary>Why it was refused.</summary>
    public string Reason { get; }
}
