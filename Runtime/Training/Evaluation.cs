namespace Dsl.Training;

/// <summary>
/// A classifier's scores on a data set (<see cref="Trainer.Evaluate"/>): loss, accuracy, top-k accuracy, and the
/// confusion matrix with per-class accuracy.
/// </summary>
public sealed class Evaluation
{
    internal Evaluation(long samples, double loss, long correct, int topK, long topKCorrect, long[,] confusion)
    {
        Samples = samples;
        Loss = loss;
        Accuracy = samples == 0 ? 0 : (double)correct / samples;
        TopK = topK;
        TopKAccuracy = samples == 0 ? 0 : (double)topKCorrect / samples;
        ConfusionMatrix = confusion;
        int classes = confusion.GetLength(0);
        var perClass = new double[classes];
        for (int c = 0; c < classes; c++)
        {
            long row = 0;
            for (int p = 0; p < classes; p++)
            {
                row += confusion[c, p];
            }
            perClass[c] = row == 0 ? double.NaN : (double)confusion[c, c] / row;
        }
        PerClassAccuracy = perClass;
    }

    /// <summary>Targets evaluated: samples for a classifier, every step for a sequence model; targets equal to the ignore index (padding) are not counted.</summary>
    public long Samples { get; }

    /// <summary>The mean of the batches' mean losses (a partial last batch weighs as much as a full one).</summary>
    public double Loss { get; }

    /// <summary>Fraction whose highest score is the label (ties go to the lowest class, as <c>argmax</c>).</summary>
    public double Accuracy { get; }

    /// <summary>The k of <see cref="TopKAccuracy"/>.</summary>
    public int TopK { get; }

    /// <summary>Fraction whose label is among the <see cref="TopK"/> highest scores.</summary>
    public double TopKAccuracy { get; }

    /// <summary><c>[label, predicted]</c> counts: row c says what samples of class c were classified as.</summary>
    public long[,] ConfusionMatrix { get; }

    /// <summary>Per class, the fraction of its samples classified correctly (recall); NaN for a class with no samples.</summary>
    public IReadOnlyList<double> PerClassAccuracy { get; }

    public override string ToString() => FormattableString.Invariant(
        $"{Samples} samples: loss {Loss:F4}, accuracy {Accuracy:F4}, top-{TopK} accuracy {TopKAccuracy:F4}");
}
