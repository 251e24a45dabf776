using Dsl.Data.Text;

namespace Dsl.Data.Seq2Seq;

/// <summary>
/// A generated data set with a length-bucketed split: training examples are long (by the task's definition) with
/// probability <see cref="LongFraction"/> only, validation and test examples half the time, so the held-out sets
/// test lengths longer than most training ones. Test sources are distinct and never appear in validation or
/// training; validation sources never appear in training. Vocabularies are the task's fixed alphabets, one id per
/// character: the source's without <c>&lt;bos&gt;</c>/<c>&lt;eos&gt;</c>, the target's with them.
/// </summary>
public sealed class Seq2SeqData
{
    private const int MaxAttempts = 10_000;

    private Seq2SeqData(ISeq2SeqTask task, double longFraction, IReadOnlyList<Seq2SeqExample> train, IReadOnlyList<Seq2SeqExample> valid, IReadOnlyList<Seq2SeqExample> test)
    {
        Task = task;
        LongFraction = longFraction;
        Train = train;
        Valid = valid;
        Test = test;
        SourceVocabulary = Vocabulary.FromTokens(task.SourceAlphabet.Select(c => c.ToString()), CharacterTokenizer.Instance.Name);
        TargetVocabulary = Vocabulary.FromTokens(task.TargetAlphabet.Select(c => c.ToString()), CharacterTokenizer.Instance.Name, bosEos: true);
    }

    public ISeq2SeqTask Task { get; }

    /// <summary>The share of long examples in training.</summary>
    public double LongFraction { get; }

    public IReadOnlyList<Seq2SeqExample> Train { get; }
    public IReadOnlyList<Seq2SeqExample> Valid { get; }
    public IReadOnlyList<Seq2SeqExample> Test { get; }

    /// <summary><c>&lt;pad&gt;</c>, <c>&lt;unk&gt;</c>, then the source alphabet.</summary>
    public Vocabulary SourceVocabulary { get; }

    /// <summary><c>&lt;pad&gt;</c>, <c>&lt;unk&gt;</c>, <c>&lt;bos&gt;</c>, <c>&lt;eos&gt;</c>, then the target alphabet.</summary>
    public Vocabulary TargetVocabulary { get; }

    /// <summary>Generates the three sets from <paramref name="seed"/> (test first, then validation, then training).</summary>
    /// <exception cref="InvalidOperationException">The task has too few distinct examples for the sizes asked.</exception>
    public static Seq2SeqData Generate(ISeq2SeqTask task, int trainCount, int validCount, int testCount, int seed = 0, double longFraction = 0.1)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (trainCount < 1 || validCount < 0 || testCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(trainCount), $"Need at least one training example and no negative counts, got {trainCount}, {validCount}, {testCount}.");
        }
        if (longFraction is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(longFraction), $"The long fraction must be in [0, 1], got {longFraction}.");
        }
        ulong key = CounterRandom.Derive((ulong)(uint)seed, FortunesCorpus.StableHash(task.Name));
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var test = Draw(task, new SeededRandom(CounterRandom.Derive(key, 3)), testCount, 0.5, taken, distinct: true, "test");
        var valid = Draw(task, new SeededRandom(CounterRandom.Derive(key, 2)), validCount, 0.5, taken, distinct: true, "validation");
        var train = Draw(task, new SeededRandom(CounterRandom.Derive(key, 1)), trainCount, longFraction, taken, distinct: false, "training");
        return new Seq2SeqData(task, longFraction, train, valid, test);
    }

    /// <summary>Source ids of each example (one per character).</summary>
    public int[][] SourceIds(IReadOnlyList<Seq2SeqExample> examples)
        => examples.Select(e => SourceVocabulary.Encode(e.Source, CharacterTokenizer.Instance)).ToArray();

    /// <summary>Target ids of each example framed as <c>&lt;bos&gt; target &lt;eos&gt;</c>.</summary>
    public int[][] TargetIds(IReadOnlyList<Seq2SeqExample> examples)
        => examples.Select(e => TargetVocabulary.Encode(e.Target, CharacterTokenizer.Instance, addBosEos: true)).ToArray();

    /// <summary>Decodes a decoder's output ids (up to the first <c>&lt;eos&gt;</c>) into target text.</summary>
    public string DecodeTarget(ReadOnlySpan<long> ids) => TargetVocabulary.Decode(ids, CharacterTokenizer.Instance);

    private static List<Seq2SeqExample> Draw(ISeq2SeqTask task, SeededRandom random, int count, double longFraction, HashSet<string> taken, bool distinct, string set)
    {
        var examples = new List<Seq2SeqExample>(count);
        for (int i = 0; i < count; i++)
        {
            bool isLong = random.NextDouble() < longFraction;
            for (int attempt = 0; ; attempt++)
            {
                if (attempt == MaxAttempts)
                {
                    throw new InvalidOperationException($"The {task.Name} task ran out of unseen {(isLong ? "long" : "short")} sources after {examples.Count} {set} examples; ask for fewer or widen its lengths.");
                }
                var example = task.Sample(random, isLong);
                if (taken.Contains(example.Source))
                {
                    continue;
                }
                if (distinct)
                {
                    taken.Add(example.Source);
                }
                examples.Add(example);
                break;
            }
        }
        return examples;
    }
}
