using System.Text;

namespace Dsl.Data.Text;

/// <summary>
/// One token per Unicode scalar value (a surrogate pair stays one token), nothing dropped or changed, so
/// <see cref="Detokenize"/> gives the text back exactly.
/// </summary>
public sealed class CharacterTokenizer : ITokenizer
{
    /// <summary>The shared instance (the tokenizer has no state).</summary>
    public static CharacterTokenizer Instance { get; } = new();

    public string Name => "characters";

    public void Tokenize(string text, List<string> destination)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(destination);
        foreach (var rune in text.EnumerateRunes())
        {
            destination.Add(rune.ToString());
        }
    }

    /// <summary>The tokens of <paramref name="text"/> as a new list.</summary>
    public List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        Tokenize(text, tokens);
        return tokens;
    }

    public string Detokenize(IEnumerable<string> tokens)
    {
        var builder = new StringBuilder();
        foreach (string token in tokens)
        {
            builder.Append(token);
        }
        return builder.ToString();
    }
}
