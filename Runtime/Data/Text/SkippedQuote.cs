namespace Dsl.Data.Text;

/// <summary>A quote the loader left out, and why (an empty quote, a duplicate of an earlier one).</summary>
/// <param name="Topic">The file it came from.</param>
/// <param name="Line">The 1-based line where it starts.</param>
/// <param name="Reason">Why it was skipped, in words.</param>
public sealed record SkippedQuote(string Topic, int Line, string Reason);
