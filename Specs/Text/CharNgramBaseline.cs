namespace Specs.Text;

/// <summary>
/// The language-model floor: unigram and bigram character models fitted on the training stream, scored in bits
/// per character on another stream. The unigram model is add-one smoothed over the alphabet (the training
/// stream's characters plus one slot for every unseen character); the bigram model interpolates the bigram's
/// maximum-likelihood estimate with that unigram, <c>P(c | p) = lambda * count(p, c) / count(p) + (1 - lambda) * P(c)</c>
/// (Jelinek-Mercer; lambda chosen on the validation stream from a fixed grid, so the floor is if anything too strict).
/// </summary>
public sealed class CharNgramBaseline
{
    private readonly Dictionary<int, int> _index;
    private readonly double[] _unigram;
    private readonly int[,] _bigramCounts;
    private readonly int[] _contextCounts;

    private CharNgramBaseline(Dictionary<int, int> index, double[] unigram, int[,] bigramCounts, int[] contextCounts)
    {
        _index = index;
        _unigram = unigram;
        _bigramCounts = bigramCounts;
        _contextCounts = contextCounts;
    }

    /// <summary>Symbols: the training stream's distinct characters (Unicode scalars) plus one for any other.</summary>
    public int AlphabetSize => _unigram.Length;

    /// <summary>Counts unigrams and bigrams of <paramref name="train"/>.</summary>
    public static CharNgramBaseline Fit(string train)
    {
        ArgumentException.ThrowIfNullOrEmpty(train);
        var symbols = train.EnumerateRunes().Select(r => r.Value).ToArray();
        var index = new Dictionary<int, int>();
        foreach (int s in symbols.Distinct().Order())
        {
            index.Add(s, index.Count);
        }
        int size = index.Count + 1; // the last slot stands for every unseen character
        var counts = new int[size];
        var bigrams = new int[size, size];
        var contexts = new int[size];
        for (int i = 0; i < symbols.Length; i++)
        {
            int c = index[symbols[i]];
            counts[c]++;
            if (i > 0)
            {
                int p = index[symbols[i - 1]];
                bigrams[p, c]++;
                contexts[p]++;
            }
        }
        var unigram = new double[size];
        for (int c = 0; c < size; c++)
        {
            unigram[c] = (counts[c] + 1.0) / (symbols.Length + size);
        }
        return new CharNgramBaseline(index, unigram, bigrams, contexts);
    }

    /// <summary>Bits per character of <paramref name="text"/> under the unigram model.</summary>
    public double UnigramBitsPerCharacter(string text)
    {
        var ids = Ids(text);
        double bits = 0;
        foreach (int c in ids)
        {
            bits -= Math.Log2(_unigram[c]);
        }
        return bits / ids.Length;
    }

    /// <summary>Bits per character of <paramref name="text"/> under the bigram model with weight <paramref name="lambda"/> (the first character scored by the unigram).</summary>
    public double BigramBitsPerCharacter(string text, double lambda)
    {
        if (lambda is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(lambda), $"Lambda must be in [0, 1) so unseen pairs keep some probability, got {lambda}.");
        }
        var ids = Ids(text);
        double bits = -Math.Log2(_unigram[ids[0]]);
        for (int i = 1; i < ids.Length; i++)
        {
            int p = ids[i - 1], c = ids[i];
            double ml = _contextCounts[p] == 0 ? 0 : (double)_bigramCounts[p, c] / _contextCounts[p];
            bits -= Math.Log2(lambda * ml + (1 - lambda) * _unigram[c]);
        }
        return bits / ids.Length;
    }

    /// <summary>The lambda of the grid 0.5, 0.6, ..., 0.999 with the fewest bits per character on <paramref name="valid"/>, and that figure.</summary>
    public (double Lambda, double BitsPerCharacter) TuneBigram(string valid)
    {
        double[] grid = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999];
        return grid.Select(l => (l, BigramBitsPerCharacter(valid, l))).MinBy(p => p.Item2);
    }

    private int[] Ids(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        return text.EnumerateRunes().Select(r => _index.TryGetValue(r.Value, out int i) ? i : AlphabetSize - 1).ToArray();
    }
}
