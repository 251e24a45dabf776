namespace Dsl.Visualization;

/// <summary>
/// A layer's activations for one sample, one tile per channel: a value [N,C,H,W] gives C maps of H x W, [N,C,L] C strips
/// of 1 x L, and [N,F] one strip of F units. Read the value with <see cref="Module.Probe"/>.
/// </summary>
public static class FeatureMaps
{
    /// <summary>The tiles of sample <paramref name="sample"/> of <paramref name="value"/>, each scaled over its own range.</summary>
    public static IReadOnlyList<ImageTile> Tiles(Tensor value, int sample)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Rank is < 2 or > 4)
        {
            throw new ArgumentException($"feature maps are [N,C,H,W], [N,C,L] or [N,F]; got {Tensor.FormatShape(value.Shape)}.", nameof(value));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(sample);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sample, value.Size(0));
        var row = value[sample].ToArray();
        if (value.Rank == 2)
        {
            return [new ImageTile(row, 1, 1, row.Length)];
        }
        int channels = value.Size(1);
        int h = value.Rank == 4 ? value.Size(2) : 1, w = value.Size(-1), plane = h * w;
        var tiles = new List<ImageTile>(channels);
        for (int c = 0; c < channels; c++)
        {
            tiles.Add(new ImageTile(row.AsSpan(c * plane, plane).ToArray(), 1, h, w, Caption: c.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        return tiles;
    }

    /// <summary>
    /// Writes sample <paramref name="sample"/>'s maps of <paramref name="value"/> to <paramref name="path"/>, in rows of 8
    /// (strips one to a row), each value <paramref name="scale"/> pixels square (0: about 96 pixels per map side, at most 16).
    /// </summary>
    public static Picture Write(Tensor value, int sample, string path, string? title = null, int scale = 0)
    {
        var tiles = Tiles(value, sample);
        int side = Math.Max(tiles[0].Height, tiles[0].Width);
        if (scale == 0)
        {
            scale = Math.Clamp(96 / side, 1, 16);
        }
        return ImageGrid.Write(path, tiles, tiles[0].Height == 1 ? 1 : 8, scale, title);
    }
}
