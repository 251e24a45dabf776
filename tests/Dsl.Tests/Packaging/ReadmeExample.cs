using Dsl.Tests.Generator;

namespace Dsl.Tests.Packaging;

/// <summary>
/// The code blocks of the README's example, each after a <c>&lt;!-- example: FILE --&gt;</c> line: what the packaging
/// test writes into a fresh user project, so the README is compiled and run as it stands.
/// </summary>
internal static class ReadmeExample
{
    public static string Block(string file)
    {
        string readme = File.ReadAllText(Path.Combine(GeneratorHarness.RepoRoot(), "README.md")).Replace("\r\n", "\n");
        string marker = $"<!-- example: {file} -->\n```csharp\n";
        int start = readme.IndexOf(marker, StringComparison.Ordinal);
        if (start < 0)
        {
            throw new InvalidOperationException($"README.md has no '<!-- example: {file} -->' followed by a csharp block.");
        }
        start += marker.Length;
        int end = readme.IndexOf("\n```", start, StringComparison.Ordinal);
        return readme[start..end] + "\n";
    }

    /// <summary>Replaces exactly one occurrence of <paramref name="find"/>, so a README edit that moves it fails loudly.</summary>
    public static string Replace(string text, string find, string with)
    {
        int at = text.IndexOf(find, StringComparison.Ordinal);
        if (at < 0 || text.IndexOf(find, at + find.Length, StringComparison.Ordinal) >= 0)
        {
            throw new InvalidOperationException($"The README example should hold {find} exactly once.");
        }
        return text[..at] + with + text[(at + find.Length)..];
    }
}
