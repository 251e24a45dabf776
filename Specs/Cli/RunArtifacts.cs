using System.Globalization;
using System.Text;
using ScottPlot;

namespace Specs.Cli;

/// <summary>
/// What a training run leaves in its output folder: <c>loss.png</c> (per-step loss, smoothed, with per-epoch test
/// accuracy on a second axis), <c>metrics.csv</c> (one row per epoch) and <c>steps.csv</c> (the loss of every step).
/// </summary>
public static class RunArtifacts
{
    /// <summary>Weight of the newest step in the plotted exponential moving average of the loss.</summary>
    public const double SmoothingAlpha = 0.05;

    /// <summary>Writes the three files into <paramref name="folder"/> (created if needed) and returns their paths.</summary>
    public static IReadOnlyList<string> Write(string folder, string title, TrainingHistory history)
    {
        Directory.CreateDirectory(folder);
        string metrics = Path.Combine(folder, "metrics.csv");
        string steps = Path.Combine(folder, "steps.csv");
        string plot = Path.Combine(folder, "loss.png");
        File.WriteAllText(metrics, MetricsCsv(history));
        File.WriteAllText(steps, StepsCsv(history));
        Plot(history, title).SavePng(plot, 1000, 600);
        return [plot, metrics, steps];
    }

    /// <summary><c>epoch,train_loss,test_accuracy,train_seconds,eval_seconds,samples_per_second</c>.</summary>
    public static string MetricsCsv(TrainingHistory history)
    {
        var sb = new StringBuilder("epoch,train_loss,test_accuracy,train_seconds,eval_seconds,samples_per_second\n");
        foreach (var e in history.Epochs)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"{e.Epoch},{e.TrainLoss:G6},{e.TestAccuracy:F4},{e.TrainSeconds:F3},{e.EvalSeconds:F3},{e.SamplesPerSecond:F0}\n");
        }
        return sb.ToString();
    }

    /// <summary><c>step,epoch,loss</c>, one row per loss reading (every step on the CPU).</summary>
    public static string StepsCsv(TrainingHistory history)
    {
        var sb = new StringBuilder("step,epoch,loss\n");
        int perEpoch = Math.Max(history.BatchesPerEpoch, 1);
        for (int i = 0; i < history.BatchLosses.Count; i++)
        {
            int step = history.LossSteps[i];
            sb.Append(CultureInfo.InvariantCulture, $"{step},{(step - 1) / perEpoch + 1},{history.BatchLosses[i]:G6}\n");
        }
        return sb.ToString();
    }

    private static Plot Plot(TrainingHistory history, string title)
    {
        int n = history.BatchLosses.Count;
        double perEpoch = Math.Max(history.BatchesPerEpoch, 1);
        var x = new double[n];
        var raw = new double[n];
        var smooth = new double[n];
        double ema = n > 0 ? history.BatchLosses[0] : 0;
        for (int i = 0; i < n; i++)
        {
            x[i] = history.LossSteps[i] / perEpoch;
            raw[i] = history.BatchLosses[i];
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
        smoothLine.LegendText = "loss (smoothed)";

        if (history.Epochs.Count > 0)
        {
            var accuracy = plot.Add.Scatter(
                history.Epochs.Select(e => (double)e.Epoch).ToArray(),
                history.Epochs.Select(e => e.TestAccuracy).ToArray());
            accuracy.Axes.YAxis = plot.Axes.Right;
            accuracy.Color = Colors.OrangeRed;
            accuracy.LineWidth = 2;
            accuracy.MarkerSize = 7;
            accuracy.LegendText = "test accuracy";
            plot.Axes.Right.Label.Text = "test accuracy";
        }
        plot.Axes.Bottom.Label.Text = "epoch";
        plot.Axes.Left.Label.Text = "loss";
        plot.ShowLegend(Alignment.UpperCenter);
        return plot;
    }
}
