using SkiaSharp;
using Specs.Cli;
using Xunit;

namespace Dsl.Tests.Cli;

/// <summary>
/// The attention heat map: the PNG has the size its layout promises, every head gets a panel, and a cell's colour follows
/// its weight (a heavy cell differs from a light one, equal weights give equal colours, swapping two weights swaps the
/// colours); shapes and labels that do not match are refused.
/// </summary>
public sealed class AttentionHeatMapTests
{
    private static SKColor Pixel(SKBitmap image, int heads, int rows, int columns, int head, int row, int column)
    {
        var (x, y) = AttentionHeatMap.CellCentre(heads, rows, columns, head, row, column);
        return image.GetPixel(x, y);
    }

    private static string[] Labels(string prefix, int count) => Enumerable.Range(0, count).Select(i => prefix + i).ToArray();

    [Fact]
    public void Two_heads_give_two_panels_of_the_promised_size_coloured_by_weight()
    {
        const int heads = 2, rows = 3, columns = 4;
        var w = new float[heads * rows * columns];
        // Head 0: row r puts 0.7 on column r, 0.1 elsewhere; head 1 the same on column 3 - r.
        for (int h = 0; h < heads; h++)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++)
                {
                    w[(h * rows + r) * columns + c] = c == (h == 0 ? r : columns - 1 - r) ? 0.7f : 0.1f;
                }
            }
        }
        byte[] png = AttentionHeatMap.Render(Tensor.From(w, 1, heads, rows, columns), 0, Labels("q", rows), Labels("k", columns), "test");
        using var image = SKBitmap.Decode(png);
        var (_, _, _, width, height) = AttentionHeatMap.Layout(heads, rows, columns);
        Assert.Equal((width, height), (image.Width, image.Height));
        Assert.True(width > 2 * AttentionHeatMap.LeftMargin && height > AttentionHeatMap.TopMargin + AttentionHeatMap.BottomMargin);

        var heavy = Pixel(image, heads, rows, columns, 0, 1, 1);
        var light = Pixel(image, heads, rows, columns, 0, 1, 2);
        Assert.NotEqual(heavy, light);
        Assert.Equal(heavy, Pixel(image, heads, rows, columns, 0, 2, 2));
        Assert.Equal(light, Pixel(image, heads, rows, columns, 0, 0, 3));
        // The second panel is drawn and follows its own weights: its heavy cell of row 1 is column 2.
        Assert.Equal(heavy, Pixel(image, heads, rows, columns, 1, 1, 2));
        Assert.Equal(light, Pixel(image, heads, rows, columns, 1, 1, 1));
        Assert.NotEqual(SKColors.White, heavy);
        Assert.NotEqual(SKColors.White, light);
    }

    [Fact]
    public void Pooling_weights_of_one_row_are_drawn_and_the_sample_chosen_is_the_one_drawn()
    {
        // [N,S]: two samples, the second with its weight on the last key.
        float[] w = [0.9f, 0.05f, 0.05f, 0.1f, 0.1f, 0.8f];
        var weights = Tensor.From(w, 2, 3);
        using var first = SKBitmap.Decode(AttentionHeatMap.Render(weights, 0, ["pool"], ["a", "b", "c"], "pool"));
        using var second = SKBitmap.Decode(AttentionHeatMap.Render(weights, 1, ["pool"], ["a", "b", "c"], "pool"));
        Assert.Equal(first.Width, second.Width);
        Assert.NotEqual(Pixel(first, 1, 1, 3, 0, 0, 0), Pixel(first, 1, 1, 3, 0, 0, 2));
        Assert.Equal(Pixel(first, 1, 1, 3, 0, 0, 0), Pixel(second, 1, 1, 3, 0, 0, 2));
    }

    [Fact]
    public void Shapes_and_labels_that_do_not_match_are_refused()
    {
        var weights = Tensor.From(new float[6], 1, 2, 3);
        Assert.Contains("need 2 query and 3 key labels", Assert.Throws<ArgumentException>(() => AttentionHeatMap.Render(weights, 0, ["a"], ["x", "y", "z"], "t")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => AttentionHeatMap.Render(weights, 1, ["a", "b"], ["x", "y", "z"], "t"));
        Assert.Contains("[N,heads,T,S]", Assert.Throws<ArgumentException>(() => AttentionHeatMap.Render(Tensor.From(new float[6], 6), 0, ["a"], ["x"], "t")).Message);
    }
}
