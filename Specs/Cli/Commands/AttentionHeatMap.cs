using System.Globalization;
using Dsl;
using ScottPlot;
using SkiaSharp;

namespace Specs.Cli;

/// <summary>
/// Attention weights of one input as a heat map PNG: one panel per head, the queries (what each row attends from: the
/// decoder's steps, a classifier's pooling) down the left, the keys (the source tokens) along the bottom, each cell
/// coloured by its weight on a scale from 0 to the panel's largest weight (Viridis: dark is 0, yellow the largest).
/// </summary>
/// <remarks>
/// Takes any readout of attention weights: [N,S] (attention pooling: one row), [N,T,S] (one head) or [N,heads,T,S]. The
/// panels are laid out in a fixed geometry (<see cref="Layout"/>), so a test can find a cell's pixels without reading
/// the plotting library's layout.
/// </remarks>
public static class AttentionHeatMap
{
    /// <summary>Pixels left of a panel's cells, for the query labels.</summary>
    public const int LeftMargin = 90;

    /// <summary>Pixels below a panel's cells, for the key labels (written downwards).</summary>
    public const int BottomMargin = 80;

    /// <summary>Pixels above a panel's cells, for its title.</summary>
    public const int TopMargin = 36;

    public const int RightMargin = 16;

    /// <summary>Panels per row of the image.</summary>
    public const int PanelsPerRow = 4;

    /// <summary>
    /// The geometry of a map of <paramref name="heads"/> panels of <paramref name="rows"/> x <paramref name="columns"/>
    /// cells: the cell size in pixels (square, 8 to 36 so a panel stays within about 640 pixels) and the image size.
    /// </summary>
    public static (int Cell, int PanelWidth, int PanelHeight, int Width, int Height) Layout(int heads, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        int cell = Math.Clamp(640 / Math.Max(rows, columns), 8, 36);
        int panelWidth = LeftMargin + columns * cell + RightMargin;
        int panelHeight = TopMargin + rows * cell + BottomMargin;
        int across = Math.Min(heads, PanelsPerRow);
        int down = (heads + PanelsPerRow - 1) / PanelsPerRow;
        return (cell, panelWidth, panelHeight, across * panelWidth, down * panelHeight);
    }

    /// <summary>
    /// The centre pixel of cell (<paramref name="row"/>, <paramref name="column"/>) of panel <paramref name="head"/> in the
    /// image <see cref="Render"/> makes for that geometry.
    /// </summary>
    public static (int X, int Y) CellCentre(int heads, int rows, int columns, int head, int row, int column)
    {
        var (cell, panelWidth, panelHeight, _, _) = Layout(heads, rows, columns);
        int x = head % PanelsPerRow * panelWidth + LeftMargin + column * cell + cell / 2;
        int y = head / PanelsPerRow * panelHeight + TopMargin + row * cell + cell / 2;
        return (x, y);
    }

    /// <summary>
    /// Sample <paramref name="sample"/> of <paramref name="weights"/> ([N,S], [N,T,S] or [N,heads,T,S]) as a PNG at
    /// <paramref name="path"/>: one panel per head titled <paramref name="title"/> (and the head), rows labelled by
    /// <paramref name="queries"/> (T of them; one for [N,S]) and columns by <paramref name="keys"/> (S).
    /// </summary>
    public static void Save(Tensor weights, int sample, IReadOnlyList<string> queries, IReadOnlyList<string> keys, string title, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] png = Render(weights, sample, queries, keys, title);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }
        File.WriteAllBytes(path, png);
    }

    /// <summary>The PNG <see cref="Save"/> writes, as bytes.</summary>
    /// <exception cref="ArgumentException">The weights are not of a shape above, or the labels do not match them.</exception>
    public static byte[] Render(Tensor weights, int sample, IReadOnlyList<string> queries, IReadOnlyList<string> keys, string title)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(keys);
        var (heads, rows, columns) = weights.Rank switch
        {
            2 => (1, 1, weights.Size(1)),
            3 => (1, weights.Size(1), weights.Size(2)),
            4 => (weights.Size(1), weights.Size(2), weights.Size(3)),
            _ => throw new ArgumentException($"Attention weights are [N,S], [N,T,S] or [N,heads,T,S], got {Tensor.FormatShape(weights.Shape)}.", nameof(weights)),
        };
        if ((uint)sample >= (uint)weights.Size(0))
        {
            throw new ArgumentOutOfRangeException(nameof(sample), $"Sample {sample} is outside the batch of {weights.Size(0)} in {Tensor.FormatShape(weights.Shape)}.");
        }
        if (queries.Count != rows || keys.Count != columns)
        {
            throw new ArgumentException($"Weights {Tensor.FormatShape(weights.Shape)} need {rows} query and {columns} key labels, got {queries.Count} and {keys.Count}.");
        }
        float[] all = weights.ToArray();
        int perSample = heads * rows * columns;
        var values = all.AsSpan(sample * perSample, perSample);
        var (cell, panelWidth, panelHeight, width, height) = Layout(heads, rows, columns);

        using var bitmap = new SKBitmap(width, height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        for (int h = 0; h < heads; h++)
        {
            var cells = new double[rows, columns];
            double most = 0;
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++)
                {
                    double w = values[(h * rows + r) * columns + c];
                    cells[r, c] = w;
                    most = Math.Max(most, double.IsFinite(w) ? w : 0);
                }
            }
            string panelTitle = heads == 1 ? title : string.Create(CultureInfo.InvariantCulture, $"head {h}: {title}");
            var plot = Panel(cells, queries, keys, panelTitle, most);
            canvas.Save();
            canvas.Translate(h % PanelsPerRow * panelWidth, h / PanelsPerRow * panelHeight);
            // The plot clears what it draws on: the clip keeps it to its own panel.
            canvas.ClipRect(new SKRect(0, 0, panelWidth, panelHeight));
            plot.Render(canvas, panelWidth, panelHeight);
            canvas.Restore();
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>One head: the cells fill the data area exactly (row 0 at the top), with a fixed frame for the labels.</summary>
    private static Plot Panel(double[,] cells, IReadOnlyList<string> queries, IReadOnlyList<string> keys, string title, double most)
    {
        int rows = cells.GetLength(0), columns = cells.GetLength(1);
        var plot = new Plot();
        // A title longer than the panel gets a smaller font (about 0.6 of the size per character is a character's width).
        int width = Layout(1, rows, columns).PanelWidth;
        plot.Title(title, (float)Math.Clamp(width / (0.6 * Math.Max(title.Length, 1)), 7, 13));
        // The plotting library draws nothing for a single row or column (a cell's size there is the extent over rows - 1):
        // such a map is drawn with it doubled, which looks the same.
        var drawn = new double[Math.Max(rows, 2), Math.Max(columns, 2)];
        for (int r = 0; r < drawn.GetLength(0); r++)
        {
            for (int c = 0; c < drawn.GetLength(1); c++)
            {
                drawn[r, c] = cells[rows == 1 ? 0 : r, columns == 1 ? 0 : c];
            }
        }
        var map = plot.Add.Heatmap(drawn);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        map.ManualRange = new ScottPlot.Range(0, most > 0 ? most : 1);
        map.Rectangle = new CoordinateRect(0, columns, 0, rows);
        plot.Axes.SetLimits(0, columns, 0, rows);
        plot.HideGrid();
        plot.Layout.Fixed(new PixelPadding(LeftMargin, RightMargin, BottomMargin, TopMargin));
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, columns).Select(c => c + 0.5).ToArray(), keys.Select(Shown).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 90;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows).Select(r => rows - r - 0.5).ToArray(), queries.Select(Shown).ToArray());
        return plot;
    }

    /// <summary>A token as a label: spaces and line breaks made visible, long words cut.</summary>
    private static string Shown(string token)
    {
        string visible = token switch
        {
            " " => "␣",
            "\n" => "⏎",
            "\t" => "⇥",
            _ => token,
        };
        return visible.Length > 12 ? visible[..11] + "…" : visible;
    }
}
