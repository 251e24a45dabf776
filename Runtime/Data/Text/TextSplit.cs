namespace Dsl.Data.Text;

/// <summary>
/// A fixed train/validation/test split of labelled quotes. Labels are indices into <see cref="Topics"/>.
/// </summary>
public sealed class TextSplit
{
    internal TextSplit(IReadOnlyList<string> topics, IReadOnlyList<FortuneQuote> train, IReadOnlyList<FortuneQuote> valid, IReadOnlyList<FortuneQuote> test)
    {
        Topics = topics;
        Train = train;
        Valid = valid;
        Test = test;
    }

    /// <summary>The class names; a quote's label is its topic's index here.</summary>
    public IReadOnlyList<string> Topics { get; }

    public IReadOnlyList<FortuneQuote> Train { get; }
    public IReadOnlyList<FortuneQuote> Valid { get; }
    public IReadOnlyList<FortuneQuote> Test { get; }

    /// <summary>The label of each quote: its topic's index in <see cref="Topics"/>.</summary>
    public long[] Labels(IReadOnlyList<FortuneQuote> quotes)
    {
        var labels = new long[quotes.Count];
        for (int i = 0; i < labels.Length; i++)
        {
            int index = IndexOf(quotes[i].Topic);
            labels[i] = index >= 0 ? index : throw new ArgumentException($"Quote at {quotes[i].Topic}:{quotes[i].Line} has a topic outside this split's {Topics.Count} topics.");
        }
        return labels;
    }

    private int IndexOf(string topic)
    {
        for (int i = 0; i < Topics.Count; i++)
        {
            if (Topics[i] == topic)
            {
                return i;
            }
        }
        return -1;
    }
}
