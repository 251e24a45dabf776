namespace Dsl.Visualization;

/// <summary>
/// Convolution filters as image grids: a weight [out, in, kh, kw] (PyTorch's layout) shows one RGB tile per output
/// channel when it reads three channels (an image's colours), else one grey tile per (output, input) pair, a row per
/// output channel (a single input channel: one tile per output channel, in rows of up to 16). Each tile is scaled over its
/// own minimum and maximum, so a filter's pattern shows whatever its magnitude.
/// </summary>
public static class Filters
{
    /// <summary>The weights of the network's 2-D convolutions (rank-4 <c>.weight</c> parameters), in definition order.</summary>
    public static IReadOnlyList<Parameter> ConvolutionWeights(Module net)
    {
        ArgumentNullException.ThrowIfNull(net);
        return net.Parameters.Where(p => p.Name.EndsWith(".weight", StringComparison.Ordinal) && p.Value.Rank == 4).ToList();
    }

    /// <summary>The tiles of <paramref name="weight"/> [out, in, kh, kw] and how many to a row.</summary>
    public static (IReadOnlyList<ImageTile> Tiles, int Columns) Tiles(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 4)
        {
            throw new ArgumentException($"a convolution weight is [out, in, kh, kw]; got {Tensor.FormatShape(weight.Shape)}.", nameof(weight));
        }
        int outs = weight.Size(0), ins = weight.Size(1), kh = weight.Size(2), kw = weight.Size(3), plane = kh * kw;
        var w = weight.ToArray();
        var tiles = new List<ImageTile>();
        if (ins == 3)
        {
            for (int o = 0; o < outs; o++)
            {
                tiles.Add(new ImageTile(w.AsSpan(o * 3 * plane, 3 * plane).ToArray(), 3, kh, kw));
            }
            return (tiles, Math.Min(outs, 16));
        }
        for (int o = 0; o < outs; o++)
        {
            for (int i = 0; i < ins; i++)
            {
                tiles.Add(new ImageTile(w.AsSpan((o * ins + i) * plane, plane).ToArray(), 1, kh, kw));
            }
        }
        return (tiles, ins == 1 ? Math.Min(outs, 16) : ins);
    }

    /// <summary>Writes the filters of <paramref name="weight"/> to <paramref name="path"/>, each weight <paramref name="scale"/> pixels square.</summary>
    public static Picture Write(Tensor weight, string path, string? title = null, int scale = 8)
    {
        var (tiles, columns) = Tiles(weight);
        return ImageGrid.Write(path, tiles, columns, scale, title);
    }
}
