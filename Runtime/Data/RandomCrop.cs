namespace Dsl.Data;

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
