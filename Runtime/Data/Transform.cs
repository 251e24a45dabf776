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
