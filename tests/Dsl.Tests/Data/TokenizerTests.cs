using Dsl.Data.Text;
using Xunit;

namespace Dsl.Tests.Data;

public class TokenizerTests
{
    // Expected tokens worked out by hand from torchtext's _basic_english_normalize patterns and replacements.
    [Theory]
    [InlineData("Don't panic!", new[] { "don", "'", "t", "panic", "!" })]
    [InlineData("\"Hello,\" she said: (quietly) why?", new[] { "hello", ",", "she", "said", "(", "quietly", ")", "why", "?" })]
    [InlineData("e.g. 3.14;  x<br />y", new[] { "e", ".", "g", ".", "3", ".", "14", "x", "y" })]
    [InlineData("\t\t-- Mark Twain, \"Pudd'nhead\"", new[] { "--", "mark", "twain", ",", "pudd", "'", "nhead" })]
    [InlineData("C++ & a-b/c", new[] { "c++", "&", "a-b/c" })]
    [InlineData("   ", new string[0])]
    public void Basic_english_matches_torchtext(string text, string[] expected)
        => Assert.Equal(expected, BasicEnglishTokenizer.Instance.Tokenize(text));

    [Fact]
    public void Characters_round_trip_exactly_including_surrogate_pairs_and_control_characters()
    {
        string text = "a\tb\n_\bx \U0001F600!";
        var tokens = CharacterTokenizer.Instance.Tokenize(text);
        Assert.Equal(10, tokens.Count);
        Assert.Equal("\U0001F600", tokens[8]);
        Assert.Equal(text, CharacterTokenizer.Instance.Detokenize(tokens));
    }
}
