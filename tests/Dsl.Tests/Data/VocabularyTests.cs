using Dsl.Data.Text;
using Xunit;

namespace Dsl.Tests.Data;

public class VocabularyTests
{
    private static readonly string[] Texts = ["the cat sat", "the dog sat", "the cat ran", "a bird"];

    [Fact]
    public void Specials_come_first_then_tokens_by_falling_frequency_with_ties_in_ordinal_order()
    {
        var v = Vocabulary.Build(Texts, BasicEnglishTokenizer.Instance);
        Assert.Equal(["<pad>", "<unk>", "the", "cat", "sat", "a", "bird", "dog", "ran"], v.Tokens);
        Assert.Equal(0, v[Vocabulary.Pad]);
        Assert.Equal(1, v["zebra"]);
        Assert.False(v.HasBosEos);
        Assert.Throws<InvalidOperationException>(() => v.BosId);
    }

    [Fact]
    public void Minimum_frequency_and_max_size_limit_the_tokens()
    {
        var frequent = Vocabulary.Build(Texts, BasicEnglishTokenizer.Instance, minFrequency: 2);
        Assert.Equal(["<pad>", "<unk>", "the", "cat", "sat"], frequent.Tokens);
        var small = Vocabulary.Build(Texts, BasicEnglishTokenizer.Instance, maxSize: 4, bosEos: true);
        Assert.Equal(["<pad>", "<unk>", "<bos>", "<eos>"], small.Tokens);
        var six = Vocabulary.Build(Texts, BasicEnglishTokenizer.Instance, maxSize: 6, bosEos: true);
        Assert.Equal(["<pad>", "<unk>", "<bos>", "<eos>", "the", "cat"], six.Tokens);
        Assert.Throws<ArgumentOutOfRangeException>(() => Vocabulary.Build(Texts, BasicEnglishTokenizer.Instance, maxSize: 3, bosEos: true));
    }

    [Fact]
    public void Encode_and_decode_frame_with_bos_and_eos_and_map_unknown_words_to_unk()
    {
        var v = Vocabulary.Build(Texts, BasicEnglishTokenizer.Instance, bosEos: true);
        int[] ids = v.Encode("The cat flew", BasicEnglishTokenizer.Instance, addBosEos: true);
        Assert.Equal([v.BosId, v["the"], v["cat"], Vocabulary.UnkId, v.EosId], ids);
        Assert.Equal("the cat <unk>", v.Decode(ids, BasicEnglishTokenizer.Instance));
        // Decoding stops at <eos> and drops padding.
        Assert.Equal("the", v.Decode(new long[] { v["the"], 0, v.EosId, v["cat"] }, BasicEnglishTokenizer.Instance));
        Assert.Throws<ArgumentException>(() => v.Encode("x", CharacterTokenizer.Instance));
    }

    [Fact]
    public void Character_vocabulary_encodes_every_training_character()
    {
        var v = Vocabulary.Build(["abba", "cab"], CharacterTokenizer.Instance);
        Assert.Equal(["<pad>", "<unk>", "a", "b", "c"], v.Tokens);
        Assert.Equal("cab?", v.Decode(v.Encode("cab?", CharacterTokenizer.Instance), CharacterTokenizer.Instance).Replace("<unk>", "?"));
    }

    [Fact]
    public void Save_and_load_round_trip()
    {
        using var folder = new TempFolder();
        var v = Vocabulary.Build(Texts, BasicEnglishTokenizer.Instance, minFrequency: 1, bosEos: true);
        v.Save(folder.File("vocab.json"));
        var loaded = Vocabulary.Load(folder.File("vocab.json"));
        Assert.Equal(v.Tokens, loaded.Tokens);
        Assert.Equal(v.TokenizerName, loaded.TokenizerName);
        Assert.True(loaded.HasBosEos);
        Assert.Equal(v.Encode("the bird ran", BasicEnglishTokenizer.Instance), loaded.Encode("the bird ran", BasicEnglishTokenizer.Instance));
    }

    [Theory]
    [InlineData("not json", "not a JSON vocabulary")]
    [InlineData("[1, 2]", "top level must be a JSON object")]
    [InlineData("""{"format":"other","version":1,"tokenizer":"characters","bos_eos":false,"tokens":["<pad>","<unk>"]}""", "\"format\" must be")]
    [InlineData("""{"format":"dsl-vocabulary","version":2,"tokenizer":"characters","bos_eos":false,"tokens":["<pad>","<unk>"]}""", "\"version\" must be 1")]
    [InlineData("""{"format":"dsl-vocabulary","version":1,"bos_eos":false,"tokens":["<pad>","<unk>"]}""", "\"tokenizer\" must name")]
    [InlineData("""{"format":"dsl-vocabulary","version":1,"tokenizer":"characters","tokens":["<pad>","<unk>"]}""", "\"bos_eos\" must be")]
    [InlineData("""{"format":"dsl-vocabulary","version":1,"tokenizer":"characters","bos_eos":false,"tokens":["<unk>","<pad>"]}""", "id 0 must be <pad>")]
    [InlineData("""{"format":"dsl-vocabulary","version":1,"tokenizer":"characters","bos_eos":true,"tokens":["<pad>","<unk>","a"]}""", "id 2 must be <bos>")]
    [InlineData("""{"format":"dsl-vocabulary","version":1,"tokenizer":"characters","bos_eos":false,"tokens":["<pad>","<unk>","a",""]}""", "token 3 must be a non-empty string")]
    [InlineData("""{"format":"dsl-vocabulary","version":1,"tokenizer":"characters","bos_eos":false,"tokens":["<pad>","<unk>","a","a"]}""", "appears twice")]
    [InlineData("""{"format":"dsl-vocabulary","version":1,"tokenizer":"characters","bos_eos":false,"tokens":["<pad>","<unk>","<eos>"]}""", "special token <eos> appears again")]
    public void Load_refuses_malformed_files_saying_why(string content, string reason)
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("v.json"), content);
        var e = Assert.Throws<InvalidDataException>(() => Vocabulary.Load(folder.File("v.json")));
        Assert.Contains(reason, e.Message);
        Assert.Contains("v.json", e.Message);
    }
}
