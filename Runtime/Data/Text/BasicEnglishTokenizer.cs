using System.Text;

namespace Dsl.Data.Text;

/// <summary>
/// Word tokens as torchtext's <c>get_tokenizer("basic_english")</c> makes them: lower-case, then the patterns of
/// <c>torchtext.data.utils._basic_english_normalize</c> in its order (<c>'</c> becomes <c> '  </c>, <c>"</c> is
/// removed, <c>.</c> <c>,</c> <c>(</c> <c>)</c> <c>!</c> <c>?</c> become tokens of their own, <c>&lt;br /&gt;</c>,
/// <c>;</c> and <c>:</c> become spaces), then a split on white space. Other punctuation stays inside words, as there.
/// </summary>
public sealed class BasicEnglishTokenizer : ITokenizer
{
    /// <summary>The shared instance (the tokenizer has no state).</summary>
    public static BasicEnglishTokenizer Instance { get; } = new();

    public string Name => "basic_english";

    public void Tokenize(string text, List<string> destination)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(destination);
        // torchtext lower-cases with Python's str.lower; ToLowerInvariant agrees on the corpus' ASCII text.
        // Removing '"' before replacing "<br />" keeps torchtext's order where it matters: the removal can form one.
        string lower = text.ToLowerInvariant().Replace("\"", "", StringComparison.Ordinal).Replace("<br />", " ", StringComparison.Ordinal);
        var word = new StringBuilder();
        foreach (char c in lower)
        {
            switch (c)
            {
                case '\'' or '.' or ',' or '(' or ')' or '!' or '?':
                    Flush(word, destination);
                    destination.Add(c.ToString());
                    break;
                case ';' or ':':
                    Flush(word, destination);
                    break;
                default:
                    if (char.IsWhiteSpace(c))
                    {
                        Flush(word, destination);
                    }
                    else
                    {
                        word.Append(c);
                    }
                    break;
            }
        }
        Flush(word, destination);
    }

    /// <summary>The tokens of <paramref name="text"/> as a new list.</summary>
    public List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        Tokenize(text, tokens);
        return tokens;
    }

    public string Detokenize(IEnumerable<string> tokens) => string.Join(' ', tokens);

    private static void Flush(StringBuilder word, List<string> destination)
    {
        if (word.Length > 0)
        {
            destination.Add(word.ToString());
            word.Clear();
        }
    }
}
