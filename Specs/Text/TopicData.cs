using Dsl;
using Dsl.Data.Text;

namespace Specs.Text;

/// <summary>
/// The topic-classification data the text networks train on, prepared once: the corpus found as the baselines find it
/// (<c>--data</c>, Debian's packages, the bundled slice), the fixed split (<see cref="FortunesBaselines.SplitSeed"/>),
/// a basic-English word vocabulary of the training quotes sized to the network's embedding, and every quote encoded.
/// </summary>
public sealed class TopicData
{
    /// <summary>A word must occur this often in the training quotes to get its own id (rarer words are <c>&lt;unk&gt;</c>).</summary>
    public const int MinFrequency = 2;

    private TopicData(FortunesLocation location, TextSplit split, Vocabulary vocabulary, int minTokens, int maxTokens)
    {
        Location = location;
        Split = split;
        Vocabulary = vocabulary;
        MinTokens = minTokens;
        MaxTokens = maxTokens;
        Train = split.Train.Select(q => Encode(q.Text)).ToArray();
        Valid = split.Valid.Select(q => Encode(q.Text)).ToArray();
        Test = split.Test.Select(q => Encode(q.Text)).ToArray();
        TrainLabels = split.Labels(split.Train);
        ValidLabels = split.Labels(split.Valid);
        TestLabels = split.Labels(split.Test);
    }

    public FortunesLocation Location { get; }
    public TextSplit Split { get; }
    public Vocabulary Vocabulary { get; }

    /// <summary>Shorter quotes are padded with <c>&lt;pad&gt;</c> to this many tokens (a convolution's widest window).</summary>
    public int MinTokens { get; }

    /// <summary>Longer quotes keep their first this many tokens.</summary>
    public int MaxTokens { get; }

    public int[][] Train { get; }
    public int[][] Valid { get; }
    public int[][] Test { get; }
    public long[] TrainLabels { get; }
    public long[] ValidLabels { get; }
    public long[] TestLabels { get; }

    /// <summary>
    /// Loads the classification topics, splits them and builds a vocabulary of at most <paramref name="vocabularySize"/>
    /// ids (the rows of the network's embedding) from the training quotes.
    /// </summary>
    public static TopicData Load(string? dataOption, int vocabularySize, int minTokens, int maxTokens)
    {
        var location = FortunesCorpus.Locate(dataOption);
        var corpus = FortunesCorpus.Load(location.Folder, FortunesCorpus.ClassificationTopics);
        var split = corpus.Split(FortunesBaselines.SplitSeed);
        var vocabulary = Vocabulary.Build(split.Train.Select(q => q.Text), BasicEnglishTokenizer.Instance, MinFrequency, vocabularySize);
        return new TopicData(location, split, vocabulary, minTokens, maxTokens);
    }

    /// <summary>With a saved vocabulary (the <c>attention</c> command reads the one a run wrote).</summary>
    public static TopicData Load(string? dataOption, Vocabulary vocabulary, int minTokens, int maxTokens)
    {
        var location = FortunesCorpus.Locate(dataOption);
        var corpus = FortunesCorpus.Load(location.Folder, FortunesCorpus.ClassificationTopics);
        return new TopicData(location, corpus.Split(FortunesBaselines.SplitSeed), vocabulary, minTokens, maxTokens);
    }

    /// <summary>The ids of <paramref name="text"/>: at most <see cref="MaxTokens"/>, padded to <see cref="MinTokens"/>.</summary>
    public int[] Encode(string text)
    {
        var ids = Vocabulary.Encode(text, BasicEnglishTokenizer.Instance);
        if (ids.Length > MaxTokens)
        {
            ids = ids[..MaxTokens];
        }
        if (ids.Length < MinTokens)
        {
            // A quote of punctuation alone has no tokens; a short one may be narrower than a convolution's window.
            Array.Resize(ref ids, MinTokens);
        }
        return ids;
    }

    /// <summary>The tokens of <paramref name="ids"/> as the vocabulary spells them.</summary>
    public IReadOnlyList<string> Words(int[] ids) => ids.Select(id => Vocabulary[id]).ToArray();

    /// <summary>
    /// The rows of <paramref name="net"/>'s embedding table (its first parameter <c>embedding*.weight</c> [num, dim]):
    /// the vocabulary size its definition fixed.
    /// </summary>
    public static int EmbeddingRows(Module net)
    {
        ArgumentNullException.ThrowIfNull(net);
        var table = net.Parameters.FirstOrDefault(p => p.Name.StartsWith("embedding", StringComparison.Ordinal) && p.Name.EndsWith(".weight", StringComparison.Ordinal))
            ?? throw new ArgumentException($"{net.NetworkName} has no embedding table (a parameter embedding*.weight): it cannot take token ids.");
        return table.Shape[0];
    }
}
