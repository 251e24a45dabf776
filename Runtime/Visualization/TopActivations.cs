using System.Globalization;

namespace Dsl.Visualization;

/// <summary>
/// The images that most activate one channel or one unit of a layer: every image is run (evaluation mode, in batches)
/// with a probe on the layer, scored, and the best k kept, highest score first (ties: the lower index first).
/// </summary>
public static class TopActivations
{
    /// <summary>
    /// The <paramref name="k"/> images of <paramref name="images"/> [M, ...input] whose mean activation of channel
    /// <paramref name="channel"/> of layer <paramref name="layer"/> (dimension 1 of its value; the value itself for [N,F])
    /// is highest.
    /// </summary>
    public static IReadOnlyList<TopActivation> ByChannel(Module net, string layer, Tensor images, int channel, int k, int batch = 256)
        => Find(net, layer, images, k, batch, (value, perSample) =>
        {
            int channels = value.Size(1), inner = perSample / channels;
            if (channel < 0 || channel >= channels)
            {
                throw new ArgumentOutOfRangeException(nameof(channel), $"{layer} has {channels} channels; got channel {channel}.");
            }
            return (channel * inner, inner);
        });

    /// <summary>
    /// The <paramref name="k"/> images whose value at <paramref name="unit"/> (an index into the layer's per-sample value,
    /// flattened) is highest.
    /// </summary>
    public static IReadOnlyList<TopActivation> ByUnit(Module net, string layer, Tensor images, int unit, int k, int batch = 256)
        => Find(net, layer, images, k, batch, (_, perSample) =>
        {
            if (unit < 0 || unit >= perSample)
            {
                throw new ArgumentOutOfRangeException(nameof(unit), $"{layer} has {perSample} units per sample; got unit {unit}.");
            }
            return (unit, 1);
        });

    /// <summary>Runs every image, scoring each by the mean of the span <paramref name="select"/> gives of its flattened value.</summary>
    private static IReadOnlyList<TopActivation> Find(Module net, string layer, Tensor images, int k, int batch, Func<Tensor, int, (int Start, int Length)> select)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (images.Rank < 2)
        {
            throw new ArgumentException($"images are [M, ...]: got {Tensor.FormatShape(images.Shape)}.", nameof(images));
        }
        int m = images.Size(0);
        var all = images.ToArray();
        int length = all.Length / Math.Max(m, 1);
        int[] sample = images.Shape[1..];
        var scores = new float[m];
        var restore = NetworkRuns.Evaluating(net);
        using var probe = net.Probe(layer);
        try
        {
            for (int start = 0; start < m; start += batch)
            {
                int count = Math.Min(batch, m - start);
                net.Forward(NetworkRuns.Batch(net, all.AsSpan(start * length, count * length).ToArray(), count, sample));
                var value = probe[layer];
                int perSample = (int)(value.Length / count);
                var (first, span) = select(value, perSample);
                var v = value.ToArray();
                for (int r = 0; r < count; r++)
                {
                    double sum = 0;
                    for (int i = 0; i < span; i++)
                    {
                        sum += v[r * perSample + first + i];
                    }
                    scores[start + r] = (float)(sum / span);
                }
            }
        }
        finally
        {
            restore();
        }
        return Enumerable.Range(0, m).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k).Select(i => new TopActivation(i, scores[i])).ToList();
    }

    /// <summary>Writes the images of <paramref name="top"/> from <paramref name="images"/> as a grid, each captioned with its index and score.</summary>
    public static Picture Write(IReadOnlyList<TopActivation> top, Tensor images, string path, string? title = null, int scale = 3)
    {
        ArgumentNullException.ThrowIfNull(top);
        ArgumentNullException.ThrowIfNull(images);
        if (images.Rank != 4)
        {
            throw new ArgumentException($"images are [M,C,H,W]: got {Tensor.FormatShape(images.Shape)}.", nameof(images));
        }
        int[] sample = images.Shape[1..];
        var tiles = top.Select(t => NetworkRuns.ImageTile(images[t.Index].ToArray(), sample,
            string.Create(CultureInfo.InvariantCulture, $"#{t.Index} {t.Score:0.00}"))).ToList();
        return ImageGrid.Write(path, tiles, Math.Min(tiles.Count, 8), scale, title);
    }
}
