using System.Globalization;
using System.Text;

namespace Dsl.Data.Seq2Seq;

/// <summary>Exact-match accuracy of predictions, overall and by source length.</summary>
public static class ExactMatch
{
    /// <summary>
    /// Compares each prediction with its example's target (ordinal, whole string) and groups the results by source
    /// length into buckets of <paramref name="bucketWidth"/> characters: [1, w], [w+1, 2w], ...
    /// </summary>
    public static ExactMatchReport Score(IReadOnlyList<Seq2SeqExample> examples, IReadOnlyList<string> predictions, int bucketWidth = 4)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(predictions);
        if (examples.Count != predictions.Count)
        {
            throw new ArgumentException($"{predictions.Count} predictions for {examples.Count} examples.", nameof(predictions));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketWidth, 1);
        var buckets = new SortedDictionary<int, (int Count, int Correct)>();
        int correct = 0;
        for (int i = 0; i < examples.Count; i++)
        {
            bool hit = string.Equals(examples[i].Target, predictions[i], StringComparison.Ordinal);
            correct += hit ? 1 : 0;
            int bucket = (examples[i].Source.Length - 1) / bucketWidth;
            var (count, right) = buckets.GetValueOrDefault(bucket);
            buckets[bucket] = (count + 1, right + (hit ? 1 : 0));
        }
        var rows = buckets.Select(kv => new ExactMatchBucket(kv.Key * bucketWidth + 1, (kv.Key + 1) * bucketWidth, kv.Value.Count, kv.Value.Correct)).ToArray();
        return new ExactMatchReport(examples.Count, correct, rows);
    }
}

/// <summary>Exact matches among examples whose source length lies in [<paramref name="MinLength"/>, <paramref name="MaxLength"/>].</summary>
public sealed record ExactMatchBucket(int MinLength, int MaxLength, int Count, int Correct)
{
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;
}

/// <summary>Overall exact match and the per-length buckets.</summary>
public sealed record ExactMatchReport(int Count, int Correct, IReadOnlyList<ExactMatchBucket> Buckets)
{
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;

    /// <summary>A small table: one line per bucket, then the total.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var b in Buckets)
        {
            text.Append(CultureInfo.InvariantCulture, $"length {b.MinLength,3}-{b.MaxLength,-3} {b.Correct,6}/{b.Count,-6} {b.Accuracy:P2}\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"all            {Correct,6}/{Count,-6} {Accuracy:P2}");
        return text.ToString();
    }
}
