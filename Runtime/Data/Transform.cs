namespace Dsl.Data;

/// <summary>
/// A per-sample transform applied by <see cref="BatchLoader"/> after a sample is gathered, in place on its floats
/// ([C,H,W] for images); the sample keeps its shape, so batches keep theirs. Random transforms draw from
/// <c>random</c>, a key derived from (loader seed, epoch, position in the epoch), so the same seed gives the same
/// augmentations whatever the number of worker threads.
/// </summary>
/// <remarks>Called from several worker threads at once: an implementation keeps no mutable state.</remarks>
public abstract class Transform
{
    /// <summary>Transforms <paramref name="sample"/> of <paramref name="shape"/> in place.</summary>
    /// <param name="sample">The sample's floats.</param>
    /// <param name="shape">The sample's shape, e.g. <c>[C,H,W]</c>.</param>
    /// <param name="random">This sample's random key; use <see cref="CounterRandom.Uniform"/> with stream numbers of your own.</param>
    /// <param name="scratch">A buffer of the sample's length the transform may overwrite.</param>
    public abstract void Apply(Span<float> sample, ReadOnlySpan<int> shape, ulong random, Span<float> scratch);

    /// <summary>Height and width of an image sample of shape <c>[C,H,W]</c> (or <c>[H,W]</c>); an error names the transform.</summary>
    protected (int Channels, int Height, int Width) ImageShape(ReadOnlySpan<int> shape) => shape.Length switch
    {
        3 => (shape[0], shape[1], shape[2]),
        2 => (1, shape[0], shape[1]),
        _ => throw new ArgumentException($"{GetType().Name} transforms images of shape [C,H,W] or [H,W], got [{string.Join(",", shape.ToArray())}]."),
    };
}

/// <summary>
/// torchvision's <c>RandomCrop(size, padding)</c> with the size of the input: pads every side with
/// <see cref="Padding"/> zeros, then takes a crop of the original size at a uniformly random offset, i.e. shifts the
/// image by up to <see cref="Padding"/> pixels each way.
/// </summary>
public sealed class RandomCrop : Transform
{
    /// <summary>Crops with <paramref name="padding"/> pixels of zero padding on each side.</summary>
    public RandomCrop(int padding)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        Padding = padding;
    }

    /// <summary>Zero pixels added on each side before cropping.</summary>
    public int Padding { get; }

    public override void Apply(Span<float> sample, ReadOnlySpan<int> shape, ulong random, Span<float> scratch)
    {
        var (channels, height, width) = ImageShape(shape);
        int dy = (int)(CounterRandom.Uniform(random, 1) * (2 * Padding + 1)) - Padding;
        int dx = (int)(CounterRandom.Uniform(random, 2) * (2 * Padding + 1)) - Padding;
        if (dy == 0 && dx == 0)
        {
            return;
        }
        int length = channels * height * width;
        sample[..length].CopyTo(scratch);
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                int sy = y + dy;
                var row = sample.Slice((c * height + y) * width, width);
                if ((uint)sy >= (uint)height)
                {
                    row.Clear();
                    continue;
                }
                var source = scratch.Slice((c * height + sy) * width, width);
                for (int x = 0; x < width; x++)
                {
                    int sx = x + dx;
                    row[x] = (uint)sx < (uint)width ? source[sx] : 0f;
                }
            }
        }
    }
}

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

/// <summary>torchvision's <c>Normalize(mean, std)</c>: <c>(x - mean[c]) / std[c]</c> for each channel c.</summary>
public sealed class Normalize : Transform
{
    private readonly float[] _mean;
    private readonly float[] _std;

    /// <summary>One mean and standard deviation per channel (or one pair for every channel).</summary>
    public Normalize(float[] mean, float[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
        {
            throw new ArgumentException($"Normalize needs as many means as standard deviations (at least one), got {mean.Length} and {std.Length}.");
        }
        if (mean.Any(m => !float.IsFinite(m)) || std.Any(s => !(s > 0f) || !float.IsFinite(s)))
        {
            throw new ArgumentOutOfRangeException(nameof(std), "Normalize's means must be finite and its standard deviations finite and positive.");
        }
        _mean = (float[])mean.Clone();
        _std = (float[])std.Clone();
    }

    public override void Apply(Span<float> sample, ReadOnlySpan<int> shape, ulong random, Span<float> scratch)
    {
        var (channels, height, width) = ImageShape(shape);
        if (_mean.Length != 1 && _mean.Length != channels)
        {
            throw new ArgumentException($"Normalize has {_mean.Length} channel statistics but the sample has {channels} channels.");
        }
        int plane = height * width;
        for (int c = 0; c < channels; c++)
        {
            float mean = _mean[_mean.Length == 1 ? 0 : c];
            float scale = 1f / _std[_std.Length == 1 ? 0 : c];
            var p = sample.Slice(c * plane, plane);
            for (int i = 0; i < p.Length; i++)
            {
                p[i] = (p[i] - mean) * scale;
            }
        }
    }
}
