namespace Dsl.Data;

/// <summary>torchvision's <c>RandomHorizontalFlip(p)</c>: mirrors the image left to right with probability <see cref="Probability"/>.</summary>
public sealed class RandomHorizontalFlip : Transform
{
    /// <summary>Flips with probability <paramref name="probability"/> (default one half).</summary>
    public RandomHorizontalFlip(float probability = 0.5f)
    {
        if (!(probability >= 0f && probability <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), $"A probability must be in [0, 1], got {probability}.");
        }
        Probability = probability;
    }

    /// <summary>The chance that a sample is flipped.</summary>
    public float Probability { get; }

    public override void Apply(Span<float> sample, ReadOnlySpan<int> shape, ulong random, Span<float> scratch)
    {
        var (channels, height, width) = ImageShape(shape);
        if (CounterRandom.Uniform(random, 3) >= Probability)
        {
            return;
        }
        for (int r = 0; r < channels * height; r++)
        {
            sample.Slice(r * width, width).Reverse();
        }
    }
}
