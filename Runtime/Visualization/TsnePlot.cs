using ScottPlot;

namespace Dsl.Visualization;

/// <summary>A 2-D embedding as a scatter plot PNG, one colour per class, with a legend of the class names.</summary>
public static class TsnePlot
{
    /// <summary>
    /// Saves <paramref name="embedding"/> (<c>[N, 2]</c>, row-major) coloured by <paramref name="labels"/> as a
    /// <paramref name="width"/> x <paramref name="height"/> PNG at <paramref name="path"/>; class i is named
    /// <paramref name="classNames"/>[i] when given, else "class i".
    /// </summary>
    public static void SavePng(float[] embedding, int[] labels, string path, string title, IReadOnlyList<string>? classNames = null,
        int width = 900, int height = 800)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        ArgumentNullException.ThrowIfNull(labels);
        if (embedding.Length != 2 * labels.Length)
        {
            throw new ArgumentException($"{labels.Length} labels for an embedding of {embedding.Length / 2.0} points.", nameof(labels));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 100);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 100);
        var plot = new Plot();
        plot.Title(title);
        var palette = new ScottPlot.Palettes.Category10();
        foreach (int label in labels.Distinct().Order())
        {
            var members = Enumerable.Range(0, labels.Length).Where(i => labels[i] == label).ToArray();
            var scatter = plot.Add.Scatter(members.Select(i => (double)embedding[2 * i]).ToArray(), members.Select(i => (double)embedding[2 * i + 1]).ToArray());
            scatter.LineWidth = 0;
            scatter.MarkerSize = 4;
            scatter.Color = palette.GetColor(label);
            scatter.LegendText = classNames is not null && label < classNames.Count ? classNames[label] : $"class {label}";
        }
        plot.ShowLegend(Edge.Right);
        plot.SavePng(path, width, height);
    }
}
