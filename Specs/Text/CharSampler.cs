using Dsl;
using Dsl.Data.Text;

namespace Specs.Text;

/// <summary>
/// Temperature sampling from a character language model: the text so far (its last <see cref="Context"/> characters,
/// the window length it was trained on) goes through the network, the scores of the last step are divided by the
/// temperature and soft-maxed, and the next character is drawn from them (seeded). <c>&lt;pad&gt;</c> and
/// <c>&lt;unk&gt;</c> are never drawn, nor ids past the vocabulary.
/// </summary>
public sealed class CharSampler(Module net, Func<Tensor, Tensor> forward, Vocabulary vocabulary, int context)
{
    /// <summary>Characters of context the network sees at each step.</summary>
    public int Context { get; } = context > 0 ? context : throw new ArgumentOutOfRangeException(nameof(context), $"The context must hold at least one character, got {context}.");

    /// <summary>
    /// <paramref name="length"/> characters following <paramref name="prime"/> (characters the vocabulary lacks read as
    /// <c>&lt;unk&gt;</c>): lower <paramref name="temperature"/> is more conservative, 1 samples the model as it is.
    /// </summary>
    public string Sample(string prime, int length, double temperature, int seed)
    {
        ArgumentNullException.ThrowIfNull(prime);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (!(temperature > 0) || !double.IsFinite(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), $"The temperature must be a positive number, got {temperature}.");
        }
        if (prime.Length == 0)
        {
            throw new ArgumentException("Sampling needs at least one character to start from.", nameof(prime));
        }
        bool wasTraining = net.IsTraining;
        net.Eval();
        try
        {
            var ids = vocabulary.Encode(prime, CharacterTokenizer.Instance).Select(id => (long)id).ToList();
            var random = new Random(seed);
            var text = new System.Text.StringBuilder();
            double[] probabilities = [];
            for (int step = 0; step < length; step++)
            {
                int t = Math.Min(Context, ids.Count);
                var window = ids.GetRange(ids.Count - t, t).ToArray();
                var scores = forward(Tensor.From(window, net.Device, 1, t)).ToArray();
                int classes = scores.Length / t;
                if (probabilities.Length != classes)
                {
                    probabilities = new double[classes];
                }
                // The network may score more ids than the vocabulary holds (its table has room to spare): those never
                // occurred as targets and are not drawn.
                var last = scores.AsSpan((t - 1) * classes, Math.Min(classes, vocabulary.Count));
                int next = Draw(last, temperature, random, probabilities);
                ids.Add(next);
                text.Append(vocabulary[next]);
            }
            return text.ToString();
        }
        finally
        {
            if (wasTraining)
            {
                net.Train();
            }
        }
    }

    /// <summary>A draw from softmax(scores / temperature), leaving out the special ids (logits or log-probabilities alike).</summary>
    private static int Draw(ReadOnlySpan<float> scores, double temperature, Random random, double[] probabilities)
    {
        int first = Vocabulary.UnkId + 1;
        double max = double.NegativeInfinity;
        for (int c = first; c < scores.Length; c++)
        {
            max = Math.Max(max, scores[c] / temperature);
        }
        double sum = 0;
        for (int c = first; c < scores.Length; c++)
        {
            probabilities[c] = Math.Exp(scores[c] / temperature - max);
            sum += probabilities[c];
        }
        double u = random.NextDouble() * sum;
        for (int c = first; c < scores.Length; c++)
        {
            u -= probabilities[c];
            if (u <= 0)
            {
                return c;
            }
        }
        return scores.Length - 1;
    }
}
