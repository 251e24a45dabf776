using ScottPlot;
using SkiaSharp;

namespace Dsl.Visualization;

/// <summary>
/// Draws tiles in a grid into a PNG: each value a square block of pixels (no smoothing, so a picture can be read back
/// value by value), a caption under a tile when it has one, an optional title on top. Grey and RGB tiles are scaled over
/// their range (<see cref="ImageTile.Range"/>); heat tiles use ScottPlot's Viridis colour map (low dark blue, high yellow).
/// </summary>
public static class ImageGrid
{
    private const int Pad = 4;
    private const int CaptionHeight = 16;
    private const int TitleHeight = 22;
    private static readonly SKColor Background = new(255, 255, 255);

    /// <summary>The colour map of heat tiles.</summary>
    public static readonly IColormap HeatMap = new ScottPlot.Colormaps.Viridis();

    /// <summary>
    /// Writes <paramref name="tiles"/> in rows of <paramref name="columns"/>, each value <paramref name="scale"/> pixels
    /// square, to <paramref name="path"/> (its folder created) and returns where everything lies. Tiles may differ in size:
    /// each cell is as large as the largest tile.
    /// </summary>
    public static Picture Write(string path, IReadOnlyList<ImageTile> tiles, int columns, int scale, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tiles);
        if (tiles.Count == 0)
        {
            throw new ArgumentException("a picture needs at least one tile", nameof(tiles));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        foreach (var t in tiles)
        {
            if (t.Channels is not (1 or 3) || (t.Heat && t.Channels != 1) || t.Pixels.Length != t.Channels * t.Height * t.Width)
            {
                throw new ArgumentException($"a tile holds 1 or 3 channels (heat: 1) of Height x Width values; got {t.Channels} x {t.Height} x {t.Width} for {t.Pixels.Length} values.", nameof(tiles));
            }
        }
        columns = Math.Min(columns, tiles.Count);
        int rows = (tiles.Count + columns - 1) / columns;
        int cellW = tiles.Max(t => t.Width) * scale, cellH = tiles.Max(t => t.Height) * scale;
        int caption = tiles.Any(t => t.Caption is not null) ? CaptionHeight : 0;
        int top = title is null ? 0 : TitleHeight;
        int width = Pad + columns * (cellW + Pad);
        int height = top + Pad + rows * (cellH + caption + Pad);
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        bitmap.Erase(Background);
        var placed = new List<PictureTile>(tiles.Count);
        for (int k = 0; k < tiles.Count; k++)
        {
            var tile = tiles[k];
            int x0 = Pad + k % columns * (cellW + Pad), y0 = top + Pad + k / columns * (cellH + caption + Pad);
            Paint(bitmap, tile, x0, y0, scale);
            placed.Add(new PictureTile(x0, y0, tile.Width * scale, tile.Height * scale));
        }
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true })
        using (var font = new SKFont(SKTypeface.Default, 12))
        {
            for (int k = 0; k < tiles.Count; k++)
            {
                if (tiles[k].Caption is { } text)
                {
                    canvas.DrawText(text, placed[k].X, placed[k].Y + cellH + CaptionHeight - 4, SKTextAlign.Left, font, paint);
                }
            }
            if (title is not null)
            {
                using var big = new SKFont(SKTypeface.Default, 14);
                canvas.DrawText(title, Pad, TitleHeight - 6, SKTextAlign.Left, big, paint);
            }
        }
        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }
        using (var image = SKImage.FromBitmap(bitmap))
        using (var data = image.Encode(SKEncodedImageFormat.Png, 100))
        using (var file = File.Create(path))
        {
            data.SaveTo(file);
        }
        return new Picture(path, width, height, scale, placed);
    }

    private static void Paint(SKBitmap bitmap, ImageTile tile, int x0, int y0, int scale)
    {
        var (low, high) = tile.Range();
        int plane = tile.Height * tile.Width;
        for (int y = 0; y < tile.Height; y++)
        {
            for (int x = 0; x < tile.Width; x++)
            {
                int i = y * tile.Width + x;
                SKColor colour;
                if (tile.Heat)
                {
                    var c = HeatMap.GetColor(ImageTile.Scale(tile.Pixels[i], low, high) / 255.0);
                    colour = new SKColor(c.R, c.G, c.B);
                }
                else if (tile.Channels == 1)
                {
                    byte g = ImageTile.Scale(tile.Pixels[i], low, high);
                    colour = new SKColor(g, g, g);
                }
                else
                {
                    colour = new SKColor(ImageTile.Scale(tile.Pixels[i], low, high), ImageTile.Scale(tile.Pixels[plane + i], low, high),
                        ImageTile.Scale(tile.Pixels[2 * plane + i], low, high));
                }
                for (int dy = 0; dy < scale; dy++)
                {
                    for (int dx = 0; dx < scale; dx++)
                    {
                        bitmap.SetPixel(x0 + x * scale + dx, y0 + y * scale + dy, colour);
                    }
                }
            }
        }
    }

    /// <summary>The colour a heat tile shows for a value at <paramref name="fraction"/> of its range (tests compare with it).</summary>
    public static (byte R, byte G, byte B) HeatColour(double fraction)
    {
        var c = HeatMap.GetColor(fraction);
        return (c.R, c.G, c.B);
    }
}
