using System.Diagnostics;
using System.Globalization;

namespace Dsl.Training;

/// <summary>
/// Progress as plain lines for logs and CI (output redirected): about ten lines per epoch, never more often than
/// once a second, then one line per finished epoch (<see cref="TrainingFormat.EpochLine"/>), its evaluation figures
/// labelled <paramref name="evaluatedOn"/> (<c>test</c>, or <c>validation</c> when that is the split passed to <c>Fit</c>).
/// </summary>
public sealed class PlainProgress(TextWriter output, string evaluatedOn = TrainingFormat.Test) : ITrainingObserver
{
    private readonly Stopwatch _sinceLine = Stopwatch.StartNew();
    private int _every = 1;

    public void EpochStarted(int epoch, int epochs, int batches)
    {
        _every = Math.Max(1, batches / 10);
        _sinceLine.Restart();
    }

    public void BatchDone(in BatchProgress p)
    {
        bool last = p.Batch == p.Batches;
        if (last || (p.Batch % _every == 0 && _sinceLine.Elapsed.TotalSeconds >= 1))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {p.Epoch}/{p.Epochs}  batch {p.Batch}/{p.Batches}  loss {p.RunningLoss:F4}  {p.SamplesPerSecond:N0} samples/s"));
            output.Flush();
            _sinceLine.Restart();
        }
    }

    public void EpochDone(EpochResult r)
    {
        output.WriteLine(TrainingFormat.EpochLine(r, evaluatedOn));
        output.Flush();
    }
}
