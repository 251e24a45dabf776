using Dsl.Data.Text;

namespace Specs.Text;

/// <summary>
/// The baseline the text classifiers must beat: multinomial logistic regression on sparse TF-IDF features of
/// word unigrams (and bigrams), trained by SGD on the cross-entropy with an L2 penalty, stopped early on the
/// validation split. Features are the basic-English tokens of <see cref="BasicEnglishTokenizer"/>; TF-IDF is
/// scikit-learn's default (<c>idf = ln((1 + n) / (1 + df)) + 1</c>, rows scaled to unit L2 norm).
/// </summary>
public sealed class BagOfWordsBaseline
{
    private readonly Dictionary<string, int> _features;
    private readonly double[] _idf;
    private readonly double[] _weights; // [classes, features], row-major
    private readonly double[] _bias;
    private readonly int _classes;
    private readonly bool _bigrams;

    private BagOfWordsBaseline(Dictionary<string, int> features, double[] idf, double[] weights, double[] bias, int classes, bool bigrams)
    {
        _features = features;
        _idf = idf;
        _weights = weights;
        _bias = bias;
        _classes = classes;
        _bigrams = bigrams;
    }

    /// <summary>Distinct features (unigrams and bigrams kept).</summary>
    public int FeatureCount => _idf.Length;

    /// <summary>Trains on <paramref name="split"/>'s training quotes, picking the epoch by validation accuracy.</summary>
    public static (BagOfWordsBaseline Model, BaselineResult Result) Train(TextSplit split, BagOfWordsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(split);
        options ??= new BagOfWordsOptions();
        var trainTerms = split.Train.Select(q => Terms(q.Text, options.Bigrams)).ToArray();
        var documentFrequency = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var terms in trainTerms)
        {
            foreach (string term in terms.Distinct(StringComparer.Ordinal))
            {
                documentFrequency[term] = documentFrequency.GetValueOrDefault(term) + 1;
            }
        }
        var features = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string term in documentFrequency.Where(kv => kv.Value >= options.MinDocumentFrequency).Select(kv => kv.Key).Order(StringComparer.Ordinal))
        {
            features.Add(term, features.Count);
        }
        var idf = new double[features.Count];
        int n = trainTerms.Length;
        foreach (var (term, index) in features)
        {
            idf[index] = Math.Log((1.0 + n) / (1.0 + documentFrequency[term])) + 1.0;
        }
        int classes = split.Topics.Count;
        var model = new BagOfWordsBaseline(features, idf, new double[classes * features.Count], new double[classes], classes, options.Bigrams);

        var train = trainTerms.Select(model.Vectorize).ToArray();
        var valid = split.Valid.Select(q => model.Vectorize(Terms(q.Text, options.Bigrams))).ToArray();
        var test = split.Test.Select(q => model.Vectorize(Terms(q.Text, options.Bigrams))).ToArray();
        long[] trainLabels = split.Labels(split.Train);
        long[] validLabels = split.Labels(split.Valid);
        long[] testLabels = split.Labels(split.Test);

        // Sparse SGD with the L2 penalty as one shared scale (W = scale * V, Bottou's trick), so a step touches
        // only the sample's features.
        var v = model._weights;
        double scale = 1.0;
        var bestWeights = (double[])v.Clone();
        var bestBias = (double[])model._bias.Clone();
        double bestScale = scale;
        double bestValid = -1;
        int bestEpoch = 0, epoch = 0, sinceBest = 0;
        var probabilities = new double[classes];
        var random = new Dsl.Data.Seq2Seq.SeededRandom(Dsl.CounterRandom.Derive((ulong)(uint)options.Seed, 0x626f77UL));
        var order = Enumerable.Range(0, train.Length).ToArray();
        for (epoch = 1; epoch <= options.MaxEpochs && sinceBest < options.Patience; epoch++)
        {
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = random.Below(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
            double lr = options.LearningRate / (1.0 + (epoch - 1) / 10.0);
            foreach (int s in order)
            {
                var x = train[s];
                model.Probabilities(x, scale, probabilities);
                scale *= 1.0 - lr * options.L2;
                if (scale < 1e-9)
                {
                    Rescale(v, ref scale);
                }
                for (int c = 0; c < classes; c++)
                {
                    double g = probabilities[c] - (c == trainLabels[s] ? 1.0 : 0.0);
                    if (g == 0)
                    {
                        continue;
                    }
                    int row = c * model.FeatureCount;
                    foreach (var (feature, value) in x)
                    {
                        v[row + feature] -= lr * g * value / scale;
                    }
                    model._bias[c] -= lr * g;
                }
            }
            double validAccuracy = model.Accuracy(valid, validLabels, scale);
            if (validAccuracy > bestValid)
            {
                bestValid = validAccuracy;
                bestEpoch = epoch;
                sinceBest = 0;
                Array.Copy(v, bestWeights, v.Length);
                Array.Copy(model._bias, bestBias, bestBias.Length);
                bestScale = scale;
            }
            else
            {
                sinceBest++;
            }
        }
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = bestWeights[i] * bestScale;
        }
        Array.Copy(bestBias, model._bias, bestBias.Length);
        var result = new BaselineResult(model.Accuracy(train, trainLabels, 1.0), model.Accuracy(valid, validLabels, 1.0), model.Accuracy(test, testLabels, 1.0), bestEpoch, epoch - 1, model.FeatureCount);
        return (model, result);
    }

    /// <summary>The predicted topic index of <paramref name="text"/>.</summary>
    public int Predict(string text)
    {
        var probabilities = new double[_classes];
        Probabilities(Vectorize(Terms(text, _bigrams)), 1.0, probabilities);
        return ArgMax(probabilities);
    }

    /// <summary>The basic-English tokens of <paramref name="text"/>, then (with <paramref name="bigrams"/>) each adjacent pair joined by a space.</summary>
    public static List<string> Terms(string text, bool bigrams)
    {
        var tokens = BasicEnglishTokenizer.Instance.Tokenize(text);
        if (bigrams)
        {
            int count = tokens.Count;
            for (int i = 0; i + 1 < count; i++)
            {
                tokens.Add(tokens[i] + " " + tokens[i + 1]);
            }
        }
        return tokens;
    }

    private (int Feature, double Value)[] Vectorize(List<string> terms)
    {
        var counts = new Dictionary<int, int>();
        foreach (string term in terms)
        {
            if (_features.TryGetValue(term, out int index))
            {
                counts[index] = counts.GetValueOrDefault(index) + 1;
            }
        }
        var vector = counts.Select(kv => (kv.Key, kv.Value * _idf[kv.Key])).OrderBy(p => p.Key).ToArray();
        double norm = Math.Sqrt(vector.Sum(p => p.Item2 * p.Item2));
        if (norm > 0)
        {
            for (int i = 0; i < vector.Length; i++)
            {
                vector[i].Item2 /= norm;
            }
        }
        return vector;
    }

    private void Probabilities((int Feature, double Value)[] x, double scale, double[] destination)
    {
        double max = double.NegativeInfinity;
        for (int c = 0; c < _classes; c++)
        {
            int row = c * FeatureCount;
            double z = 0;
            foreach (var (feature, value) in x)
            {
                z += _weights[row + feature] * value;
            }
            destination[c] = z * scale + _bias[c];
            max = Math.Max(max, destination[c]);
        }
        double sum = 0;
        for (int c = 0; c < _classes; c++)
        {
            destination[c] = Math.Exp(destination[c] - max);
            sum += destination[c];
        }
        for (int c = 0; c < _classes; c++)
        {
            destination[c] /= sum;
        }
    }

    private double Accuracy((int Feature, double Value)[][] samples, long[] labels, double scale)
    {
        if (samples.Length == 0)
        {
            return 0;
        }
        var probabilities = new double[_classes];
        int correct = 0;
        for (int i = 0; i < samples.Length; i++)
        {
            Probabilities(samples[i], scale, probabilities);
            correct += ArgMax(probabilities) == labels[i] ? 1 : 0;
        }
        return (double)correct / samples.Length;
    }

    private static int ArgMax(double[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }
        return best;
    }

    private static void Rescale(double[] v, ref double scale)
    {
        for (int i = 0; i < v.Length; i++)
        {
            v[i] *= scale;
        }
        scale = 1.0;
    }
}
