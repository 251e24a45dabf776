namespace Dsl.Data;

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
