using System.Globalization;
using System.Text;
using ScottPlot;

namespace Dsl.Training;

/// <summary>
/// What a training run can leave in a folder: <c>loss.png</c> (the loss of every step, smoothed, with each epoch's
/// train and test loss, and train and test accuracy on a second axis), <c>metrics.csv</c> (one row per epoch) and
/// <c>steps.csv</c> (the loss of every reading).
/// </summary>
public static class TrainingPlot
{
    /// <summary>Weight of the newest step in the plotted exponential moving average of the loss.</summary>
    public const double SmoothingAlpha = 0.05;

    /// <summary>Writes the three files into <paramref name="folder"/> (created if needed) and returns their paths.</summary>
    public static IReadOnlyList<string> WriteAll(string folder, string title, TrainingHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        Directory.CreateDirectory(folder);
        string metrics = Path.Combine(folder, "metrics.csv");
        string steps = Path.Combine(folder, "steps.csv");
        string plot = Path.Combine(folder, "loss.png");
        File.WriteAllText(metrics, MetricsCsv(history));
        File.WriteAllText(steps, StepsCsv(history));
        SavePng(history, title, plot);
        return [plot, metrics, steps];
    }

    /// <summary>Saves the plot of <paramref name="history"/> as a 1000x600 PNG at <paramref name="path"/>.</summary>
    public static void SavePng(TrainingHistory history, string title, string path)
    {
        ArgumentNullException.ThrowIfNull(history);
        Create(history, title).SavePng(path, 1000, 600);
    }

    /// <summary><c>epoch,train_loss,train_accuracy,test_loss,test_accuracy,train_seconds,eval_seconds,samples_per_second,learning_rate</c>.</summary>
    public static string MetricsCsv(TrainingHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var sb = new StringBuilder("epoch,train_loss,train_accuracy,test_loss,test_accuracy,train_seconds,eval_seconds,samples_per_second,learning_rate\n");
        foreach (var e in history.Epochs)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"{e.Epoch},{e.TrainLoss:G6},{e.TrainAccuracy:F4},{e.TestLoss:G6},{e.TestAccuracy:F4},{e.TrainSeconds:F3},{e.EvalSeconds:F3},{e.SamplesPerSecond:F0},{e.LearningRate:G6}\n");
        }
        return sb.ToString();
    }

    /// <summary><c>step,epoch,loss</c>, one row per loss reading (every step on the CPU).</summary>
    public static string StepsCsv(TrainingHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var sb = new StringBuilder("step,epoch,loss\n");
        int perEpoch = Math.Max(history.BatchesPerEpoch, 1);
        for (int i = 0; i < history.BatchLosses.Count; i++)
        {
            int step = history.LossSteps[i];
            sb.Append(CultureInfo.InvariantCulture, $"{step},{(step - 1) / perEpoch + 1},{history.BatchLosses[i]:G6}\n");
        }
        return sb.ToString();
    }

    private static Plot Create(TrainingHistory history, string title)
    {
        // Non-finite readings (a diverged run) are left out: they would stretch the axis to nothing.
        var readings = Enumerable.Range(0, history.BatchLosses.Count).Where(i => float.IsFinite(history.BatchLosses[i])).ToArray();
        double perEpoch = Math.Max(history.BatchesPerEpoch, 1);
        var x = new double[readings.Length];
        var raw = new double[readings.Length];
        var smooth = new double[readings.Length];
        double ema = readings.Length > 0 ? history.BatchLosses[readings[0]] : 0;
        for (int i = 0; i < readings.Length; i++)
        {
            x[i] = history.LossSteps[readings[i]] / perEpoch;
            raw[i] = history.BatchLosses[readings[i]];
            ema += SmoothingAlpha * (raw[i] - ema);
            smooth[i] = ema;
        }

        var plot = new Plot();
        plot.Title(title);
        var rawLine = plot.Add.Scatter(x, raw);
        rawLine.MarkerSize = 0;
        rawLine.LineWidth = 1;
        rawLine.Color = Colors.SteelBlue.WithAlpha(0.25);
        rawLine.LegendText = "loss per batch";
        var smoothLine = plot.Add.Scatter(x, smooth);
        smoothLine.MarkerSize = 0;
        smoothLine.LineWidth = 2;
        smoothLine.Color = Colors.SteelBlue;
        smoothLine.LegendText = "train loss (smoothed)";

        if (history.Epochs.Count > 0)
        {
            double[] epochs = history.Epochs.Select(e => (double)e.Epoch).ToArray();
            Series(plot, epochs, history.Epochs.Select(e => e.TrainLoss), Colors.Navy, "train loss", right: false);
            Series(plot, epochs, history.Epochs.Select(e => e.TestLoss), Colors.DarkOrange, "test loss", right: false);
            Series(plot, epochs, history.Epochs.Select(e => e.TrainAccuracy), Colors.SeaGreen, "train accuracy", right: true);
            Series(plot, epochs, history.Epochs.Select(e => e.TestAccuracy), Colors.OrangeRed, "test accuracy", right: true);
            plot.Axes.Right.Label.Text = "accuracy";
        }
        plot.Axes.Bottom.Label.Text = "epoch";
        plot.Axes.Left.Label.Text = "loss";
        plot.ShowLegend(Alignment.UpperCenter);
        return plot;
    }

    private static void Series(Plot plot, double[] x, IEnumerable<double> y, Color color, string label, bool right)
    {
        var line = plot.Add.Scatter(x, y.Select(v => double.IsFinite(v) ? v : double.NaN).ToArray());
        if (right)
        {
            line.Axes.YAxis = plot.Axes.Right;
        }
        line.Color = color;
        line.LineWidth = 2;
        line.MarkerSize = 7;
        line.LegendText = label;
    }
}
