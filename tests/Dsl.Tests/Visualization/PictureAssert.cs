using Dsl.Visualization;
using SkiaSharp;
using Xunit;

namespace Dsl.Tests.Visualization;

/// <summary>Reads a written picture back: its PNG decoded with SkiaSharp, and the grey level a value should show.</summary>
internal static class PictureAssert
{
    /// <summary>Decodes the PNG and checks it has the size the picture reports.</summary>
    public static SKBitmap Decode(Picture picture)
    {
        var bitmap = SKBitmap.Decode(picture.Path);
        Assert.NotNull(bitmap);
        Assert.Equal(picture.Width, bitmap.Width);
        Assert.Equal(picture.Height, bitmap.Height);
        return bitmap;
    }

    /// <summary>The colour at the centre of value (x, y) of tile <paramref name="tile"/>.</summary>
    public static SKColor At(SKBitmap bitmap, Picture picture, int tile, int x, int y)
    {
        var t = picture.Tiles[tile];
        return bitmap.GetPixel(t.X + x * picture.Scale + picture.Scale / 2, t.Y + y * picture.Scale + picture.Scale / 2);
    }

    /// <summary>The grey level of <paramref name="v"/> in values spanning [min, max], computed here rather than by the library.</summary>
    public static int Grey(float v, float min, float max) => (int)Math.Round(255.0 * (v - min) / (max - min));

    public static void Near(int expected, int actual, string what) => Assert.True(Math.Abs(expected - actual) <= 1, $"{what}: expected {expected}, got {actual}");

    public static string TempPng(string name) => Path.Combine(Path.GetTempPath(), "dsl-viz-" + Guid.NewGuid().ToString("N")[..8], name);
}
