using System.Globalization;
using Dsl;
using Dsl.Training;

namespace Specs.Cli;

/// <summary>
/// One <c>train</c> invocation as a task sees it: the network's entry, the settings, the recipe with the command line's
/// overrides, the device and the output folder (already created); and the steps every task shares.
/// </summary>
public sealed record TrainRun(CliOutput Cli, NetworkInfo Info, TrainSettings Settings, Recipe Recipe, Device Device, string Folder)
{
    /// <summary>Where the weights go: <c>model.safetensors</c> in the folder.</summary>
    public string Weights => Path.Combine(Folder, "model.safetensors");

    /// <summary>The network of the entry on the device with the seed, loaded from <c>--init</c> when given.</summary>
    public Module CreateNetwork()
    {
        var net = Info.Create(Device, Settings.Seed);
        if (Settings.Init is { } init)
        {
            Checkpoint.Load(net, init);
            Cli.Out.WriteLine($"weights: loaded from {init}");
        }
        return net;
    }

    /// <summary>A trainer with the recipe's settings (epochs, batch, seed, clipping, schedule) and <paramref name="callbacks"/> after the schedule.</summary>
    public Trainer CreateTrainer(Module net, Optimizer optimizer, LrSchedule? schedule, ITrainingObserver progress, params TrainingCallback[] callbacks)
    {
        var trainer = new Trainer(net, optimizer, Recipe.Loss)
        {
            Epochs = Recipe.Epochs,
            BatchSize = Recipe.BatchSize,
            Seed = Settings.Seed,
            Progress = progress,
            ClipGradNorm = Recipe.ClipGradNorm,
        };
        if (schedule is not null)
        {
            trainer.Callbacks.Add(new LrScheduleCallback(schedule));
        }
        trainer.Callbacks.AddRange(callbacks);
        return trainer;
    }

    /// <summary>
    /// Runs <paramref name="fit"/> with live progress on a terminal (plain lines otherwise) and writes the plot and
    /// metrics; a diverging run becomes a <see cref="CommandFailedException"/> with <see cref="TrainCommand.Diverged"/>
    /// saying what <paramref name="checkpoint"/> kept. <paramref name="evaluatedOn"/> names the split the epochs are scored on
    /// (<c>validation</c> for the text tasks, which keep the test split for the end).
    /// </summary>
    public TrainingHistory Fit(string title, ModelCheckpoint checkpoint, Func<ITrainingObserver, TrainingHistory> fit, string evaluatedOn = TrainingFormat.Test)
    {
        TrainingHistory history;
        try
        {
            history = Cli.IsTerminal
                ? LiveProgress.Run(Cli.Console, fit, evaluatedOn)
                : fit(new PlainProgress(Cli.Out, evaluatedOn));
        }
        catch (NonFiniteLossException e)
        {
            var files = TrainingPlot.WriteAll(Folder, title, e.History);
            string kept = checkpoint.SavedEpoch is { } epoch
                ? $"{checkpoint.Path} keeps the weights of epoch {epoch}, the last with finite losses"
                : "no epoch ended with finite losses, so no weights were saved";
            throw new CommandFailedException($"{e.Message}; {kept}; wrote {string.Join(", ", files)}", TrainCommand.Diverged);
        }
        var written = TrainingPlot.WriteAll(Folder, title, history).ToList();
        written.Add(checkpoint.Path);
        Cli.Out.WriteLine($"wrote {string.Join(", ", written)}");
        if (history.StopReason is { } reason)
        {
            Cli.Out.WriteLine($"stopped: {reason}");
        }
        return history;
    }

    /// <summary>The checkpoint's metadata: the recipe and the seed.</summary>
    public Dictionary<string, string> Metadata() => new()
    {
        ["network"] = Info.Name,
        ["recipe"] = Recipe.ToString(),
        ["seed"] = Settings.Seed.ToString(CultureInfo.InvariantCulture),
    };
}
