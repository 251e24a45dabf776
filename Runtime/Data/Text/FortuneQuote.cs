namespace Dsl.Data.Text;

/// <summary>One quote of a fortunes file.</summary>
/// <param name="Text">The quote's lines joined by <c>\n</c>, without the final line break; kept as written (tabs,
/// overstrike backspaces and all).</param>
/// <param name="Topic">The file it came from (<c>computers</c>, <c>politics</c>, ...).</param>
/// <param name="Line">The 1-based line where the quote starts in that file, to find it again.</param>
public sealed record FortuneQuote(string Text, string Topic, int Line);
