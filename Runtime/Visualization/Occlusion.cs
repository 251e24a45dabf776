namespace Dsl.Visualization;

/// <summary>
/// Occlusion sensitivity (Zeiler and Fergus, 2014): a grey square slid over the image, and how much the probability of the
/// true class drops with each position covered. A network that ignores a region shows no drop there.
/// </summary>
public static class Occlusion
{
    /// <summary>
    /// The map for <paramref name="image"/> [C,H,W] (or [1,C,H,W]) of class <paramref name="label"/>: a
    /// <paramref name="patch"/> x <paramref name="patch"/> square of <paramref name="fill"/> (mid-grey of [0,1] pixels by
    /// default) at every <paramref name="stride"/>-th position where it fits, all positions run in batches of
    /// <paramref name="batch"/> in evaluation mode (the network's mode is restored after).
    /// </summary>
    public static OcclusionMap Compute(Module net, Tensor image, int label, int patch = 8, int stride = 2, float fill = 0.5f, int batch = 64)
    {
        ArgumentNullException.ThrowIfNull(net);
        var (values, shape) = NetworkRuns.Sample(image, nameof(Occlusion));
        int c = shape[0], h = shape[1], w = shape[2], plane = h * w, length = values.Length;
        if (patch < 1 || patch > h || patch > w)
        {
            throw new ArgumentOutOfRangeException(nameof(patch), $"the patch must fit the {h} x {w} image; got {patch}.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        int rows = (h - patch) / stride + 1, columns = (w - patch) / stride + 1, positions = rows * columns;
        var restore = NetworkRuns.Evaluating(net);
        try
        {
            var baseline = Run(net, values, 1, shape);
            int classes = baseline.Length;
            if (label < 0 || label >= classes)
            {
                throw new ArgumentOutOfRangeException(nameof(label), $"{net.NetworkName} scores {classes} classes; got label {label}.");
            }
            float p0 = baseline[label];
            var drops = new float[positions];
            var rowsData = new float[Math.Min(batch, positions) * length];
            for (int start = 0; start < positions; start += batch)
            {
                int count = Math.Min(batch, positions - start);
                for (int k = 0; k < count; k++)
                {
                    var dst = rowsData.AsSpan(k * length, length);
                    values.CopyTo(dst);
                    int top = (start + k) / columns * stride, left = (start + k) % columns * stride;
                    for (int ch = 0; ch < c; ch++)
                    {
                        for (int y = top; y < top + patch; y++)
                        {
                            dst.Slice(ch * plane + y * w + left, patch).Fill(fill);
                        }
                    }
                }
                var p = Run(net, count * length == rowsData.Length ? rowsData : rowsData[..(count * length)], count, shape);
                for (int k = 0; k < count; k++)
                {
                    drops[start + k] = p0 - p[k * classes + label];
                }
            }
            return new OcclusionMap(drops, rows, columns, patch, stride, h, w, label, p0);
        }
        finally
        {
            restore();
        }
    }

    private static float[] Run(Module net, float[] values, int rows, int[] shape)
    {
        var output = net.Forward(NetworkRuns.Batch(net, values, rows, shape));
        return NetworkRuns.Probabilities(output.ToArray(), rows);
    }

    /// <summary>
    /// Writes the image and its per-pixel map (<see cref="OcclusionMap.PixelMap"/>) side by side, the map as heat from its
    /// lowest (dark) to its highest drop (yellow).
    /// </summary>
    public static Picture Write(OcclusionMap map, Tensor image, string path, int scale = 8)
    {
        ArgumentNullException.ThrowIfNull(map);
        var (values, shape) = NetworkRuns.Sample(image, nameof(Occlusion));
        var tiles = new[]
        {
            NetworkRuns.ImageTile(values, shape, "image"),
            new ImageTile(map.PixelMap(), 1, map.Height, map.Width, System.FormattableString.Invariant($"drop of p({map.Label}) from {map.Probability:0.000}"), Heat: true),
        };
        return ImageGrid.Write(path, tiles, 2, scale, System.FormattableString.Invariant($"occlusion {map.Patch}x{map.Patch}, stride {map.Stride}"));
    }
}
