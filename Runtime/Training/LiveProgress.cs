using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Dsl.Training;

/// <summary>
/// Progress on an interactive terminal: one Spectre.Console progress row per epoch, updated a few times a second
/// with the batch, running loss and throughput, and left in place with the epoch's accuracy and time when it ends.
/// </summary>
public sealed class LiveProgress : ITrainingObserver
{
    private readonly ProgressContext _context;
    private readonly Stopwatch _sinceUpdate = Stopwatch.StartNew();
    private readonly string _evaluatedOn;
    private ProgressTask? _task;

    private LiveProgress(ProgressContext context, string evaluatedOn) => (_context, _evaluatedOn) = (context, evaluatedOn);

    /// <summary>
    /// Runs <paramref name="body"/> inside a live progress display on <paramref name="console"/>; <paramref name="evaluatedOn"/>
    /// names the split of the epochs' accuracy (<c>test</c>, or <c>validation</c>).
    /// </summary>
    public static T Run<T>(IAnsiConsole console, Func<ITrainingObserver, T> body, string evaluatedOn = TrainingFormat.Test) => console.Progress()
        .AutoClear(false)
        .HideCompleted(false)
        .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
        .Start(ctx => body(new LiveProgress(ctx, evaluatedOn)));

    public void EpochStarted(int epoch, int epochs, int batches)
    {
        _task = _context.AddTask(Markup.Escape($"epoch {epoch}/{epochs}"), maxValue: batches);
        _sinceUpdate.Restart();
    }

    public void BatchDone(in BatchProgress p)
    {
        if (_task is null)
        {
            return;
        }
        _task.Value = p.Batch;
        if (p.Batch == p.Batches || _sinceUpdate.ElapsedMilliseconds >= 200)
        {
            _task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"epoch {p.Epoch}/{p.Epochs}  {p.Batch}/{p.Batches}  loss {p.RunningLoss:F4}  {p.SamplesPerSecond:N0}/s"));
            _sinceUpdate.Restart();
        }
    }

    public void EpochDone(EpochResult r)
    {
        if (_task is not null)
        {
            // Short enough for an 80-column terminal; the full line goes to metrics.csv.
            _task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"epoch {r.Epoch}  loss {r.TrainLoss:F4}  {_evaluatedOn} acc {r.TestAccuracy:F4}  {r.TrainSeconds:F1} s"));
            _task.StopTask();
        }
    }
}
