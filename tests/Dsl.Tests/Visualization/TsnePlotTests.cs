using Dsl.Visualization;
using SkiaSharp;
using Xunit;

namespace Dsl.Tests.Visualization;

/// <summary>The scatter plot: the asked size, and the classes' colours drawn where the points are.</summary>
public sealed class TsnePlotTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("dsl-tsne-plot-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_png_has_the_asked_size_and_each_class_in_its_colour()
    {
        var (points, labels) = TsneData.Clusters(3, 60, 2, spread: 10, seed: 2);
        string path = Path.Combine(_folder, "tsne.png");
        TsnePlot.SavePng(points, labels, path, "three classes", ["alpha", "beta", "gamma"], width: 640, height: 480);
        using var image = SKBitmap.Decode(path);
        Assert.Equal((640, 480), (image.Width, image.Height));
        var palette = new ScottPlot.Palettes.Category10();
        var counts = new int[3];
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                var pixel = image.GetPixel(x, y);
                for (int c = 0; c < 3; c++)
                {
                    var colour = palette.GetColor(c);
                    counts[c] += pixel.Red == colour.R && pixel.Green == colour.G && pixel.Blue == colour.B ? 1 : 0;
                }
            }
        }
        // 60 markers of each class, some overlapping: far more than the legend's one marker of each colour.
        Assert.All(counts, count => Assert.True(count > 200, $"class pixels {string.Join(", ", counts)}"));

        // Points of one class alone: the other colours are gone.
        TsnePlot.SavePng(points, labels.Select(_ => 0).ToArray(), path, "one class", width: 300, height: 200);
        using var single = SKBitmap.Decode(path);
        Assert.Equal((300, 200), (single.Width, single.Height));
        var second = palette.GetColor(1);
        Assert.DoesNotContain(single.Pixels, p => p.Red == second.R && p.Green == second.G && p.Blue == second.B);
    }

    [Fact]
    public void Mismatched_labels_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => TsnePlot.SavePng(new float[10], new int[4], Path.Combine(_folder, "x.png"), "x"));
        Assert.Contains("4 labels for an embedding of 5 points", e.Message, StringComparison.Ordinal);
    }
}
