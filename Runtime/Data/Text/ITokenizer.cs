namespace Dsl.Data.Text;

/// <summary>Splits text into tokens, and joins tokens back into text.</summary>
public interface ITokenizer
{
    /// <summary>A short name saved with a vocabulary (<c>basic_english</c>, <c>characters</c>), checked on load.</summary>
    string Name { get; }

    /// <summary>The tokens of <paramref name="text"/>, appended to <paramref name="destination"/> (reused by the caller).</summary>
    void Tokenize(string text, List<string> destination);

    /// <summary>Joins tokens into text (a space between words, nothing between characters).</summary>
    string Detokenize(IEnumerable<string> tokens);
}
