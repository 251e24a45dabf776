using System.Globalization;
using Dsl.Data.Seq2Seq;

namespace Specs.Seq2Seq;

/// <summary>How <c>train seq2seq</c> trains the GRU encoder-decoder: the generated task and its sizes, and the optimiser.</summary>
/// <param name="Task">The generated task: <c>reverse</c>, <c>sort</c> or <c>dates</c>.</param>
/// <param name="TrainCount">Training pairs (10% of them long, by the task's definition).</param>
/// <param name="ValidCount">Validation pairs, scored by greedy decoding after every epoch.</param>
/// <param name="TestCount">Test pairs, half of them long, scored once at the end by length bucket.</param>
/// <param name="Epochs">Passes over the training pairs (fewer when validation reaches <see cref="StopAt"/>).</param>
/// <param name="BatchSize">Pairs per step.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="ClipNorm">The global gradient norm is clipped to this (<c>clip_grad_norm_</c>), as recurrent networks need.</param>
public sealed record Seq2SeqRecipe(string Task, int TrainCount, int ValidCount, int TestCount, int Epochs, int BatchSize, float LearningRate, float ClipNorm)
{
    /// <summary>Anneal the learning rate to 0 over <see cref="Epochs"/> with a cosine (<c>CosineAnnealingLR</c>), else keep it constant.</summary>
    public bool Cosine { get; init; } = true;

    /// <summary>Validation exact match at which training stops early (1 = only a perfect validation score stops it).</summary>
    public double StopAt { get; init; } = 1.0;

    /// <summary>
    /// The default: reverse digit strings of 4 to 12 digits, 13 to 16 in the long tenth of the 50,000 training pairs (with
    /// 20,000 pairs validation plateaued near 0.98, the long ones lagging); 10 epochs of cosine-annealed Adam.
    /// </summary>
    public static Seq2SeqRecipe Default { get; } = new("reverse", 50_000, 1_000, 2_000, 10, 64, 2e-3f, 1f);

    /// <summary>The task a name stands for, or null when there is none.</summary>
    public static ISeq2SeqTask? CreateTask(string name) => name switch
    {
        "reverse" => new ReverseDigitsTask(),
        "sort" => new SortDigitsTask(),
        "dates" => new DateRewriteTask(),
        _ => null,
    };

    /// <summary>The task names <see cref="CreateTask"/> knows.</summary>
    public static IReadOnlyList<string> TaskNames { get; } = ["reverse", "sort", "dates"];

    /// <summary>The catalog's view of this recipe (what <c>list</c> shows): Adam, the batch and the epochs, cross-entropy.</summary>
    public Specs.Cli.Recipe AsRecipe() => new(Specs.Cli.OptimizerKind.Adam, LearningRate, 0f, BatchSize, Epochs, Dsl.Training.LossKind.CrossEntropy) { Schedule = Cosine ? "cosine" : "none" };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"task {Task}, {TrainCount:N0} train / {ValidCount:N0} valid / {TestCount:N0} test pairs, adam lr {LearningRate}{(Cosine ? " cosine" : "")}, batch {BatchSize}, up to {Epochs} epochs, clip norm {ClipNorm}");
}
