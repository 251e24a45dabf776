namespace Dsl.Data.Text;

/// <summary>A file that cannot be read as a fortunes file (invalid UTF-8, binary, no <c>%</c> separator).</summary>
public sealed class FortunesFormatException : Exception
{
    public FortunesFormatException(string path, string message)
        : base($"{path}: {message}")
    {
        Path = path;
    }

    /// <summary>The offending file (or the name given to an in-memory source).</summary>
    public string Path { get; }
}
