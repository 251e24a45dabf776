using System.Globalization;
using Dsl;
using Dsl.Data;
using Dsl.Training;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// <c>train &lt;network&gt; [options]</c>: trains a catalog network on Fashion-MNIST with the runtime's
/// <see cref="Trainer"/>, shows progress, prints the final test accuracy and writes the run's plot, metrics and weights.
/// The weights are saved after every epoch that ends with finite losses, so a run that diverges keeps its last finite
/// weights and exits with <see cref="Diverged"/>.
/// </summary>
public sealed class TrainCommand(CliOutput cli) : Command<TrainSettings>
{
    /// <summary>Where runs go without <c>--out</c>: ignored by git at any depth.</summary>
    public const string RunsFolder = "runs";

    /// <summary>The exit code of a run whose loss became NaN or infinite.</summary>
    public const int Diverged = 3;

    public override int Execute(CommandContext context, TrainSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Info.Name == Seq2Seq.Seq2SeqCommand.NetworkName)
        {
            return Seq2Seq.Seq2SeqCommand.Train(cli, settings);
        }
        var output = cli.Out;
        var info = settings.Info;
        var recipe = settings.ApplyTo(info.DefaultRecipe);
        int seed = settings.Seed;
        var device = settings.ResolvedDevice;

        // The output folder is made before any data is read, so a bad --out costs nothing.
        string folder = settings.Out ?? DefaultFolder(info.Name, DateTime.Now);
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--out {folder}: cannot create the folder ({e.Message})");
        }

        var location = FashionMnist.Locate(settings.Data);
        output.WriteLine($"data: {location.Describe()}");
        if (!location.IsFull)
        {
            output.WriteLine("      this is a slice, not the full data set: accuracies are not comparable with published ones");
        }
        var data = FashionMnist.Load(location.Folder);
        var train = data.Train.Take(settings.LimitTrain ?? int.MaxValue);
        var test = data.Test.Take(settings.LimitTest ?? int.MaxValue);
        if (train.Count == 0 || test.Count == 0)
        {
            throw new UsageException($"the {(train.Count == 0 ? "training" : "test")} set in {location.Folder} is empty: nothing to {(train.Count == 0 ? "train on" : "evaluate on")}");
        }

        var net = info.Create(device, seed);
        if (settings.Init is { } init)
        {
            Checkpoint.Load(net, init);
            output.WriteLine($"weights: loaded from {init}");
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training {info.Name} ({net.ParameterCount:N0} parameters) on {device.Name}: {recipe}, seed {seed}, {train.Count:N0} train / {test.Count:N0} test images"));

        string weights = Path.Combine(folder, "model.safetensors");
        var optimizer = recipe.CreateOptimizer(net);
        var checkpoint = new ModelCheckpoint(weights, bestOnly: false,
            metadata: new Dictionary<string, string> { ["recipe"] = recipe.ToString(), ["seed"] = seed.ToString(CultureInfo.InvariantCulture) });
        string title = $"{info.Name} on Fashion-MNIST ({recipe})";
        var schedule = recipe.CreateSchedule(optimizer);
        Trainer Make(ITrainingObserver progress)
        {
            var trainer = new Trainer(net, optimizer, recipe.Loss)
            {
                Epochs = recipe.Epochs,
                BatchSize = recipe.BatchSize,
                Seed = seed,
                Progress = progress,
            };
            if (schedule is not null)
            {
                trainer.Callbacks.Add(new LrScheduleCallback(schedule));
            }
            trainer.Callbacks.Add(checkpoint);
            return trainer;
        }

        TrainingHistory history;
        try
        {
            history = cli.IsTerminal
                ? LiveProgress.Run(cli.Console, observer => Make(observer).Fit(train, test))
                : Make(new PlainProgress(output)).Fit(train, test);
        }
        catch (NonFiniteLossException e)
        {
            var files = TrainingPlot.WriteAll(folder, title, e.History);
            string kept = checkpoint.SavedEpoch is { } epoch
                ? $"{weights} keeps the weights of epoch {epoch}, the last with finite losses"
                : "no epoch ended with finite losses, so no weights were saved";
            throw new CommandFailedException($"{e.Message}; {kept}; wrote {string.Join(", ", files)}", Diverged);
        }

        var written = TrainingPlot.WriteAll(folder, title, history).ToList();
        written.Add(weights);
        output.WriteLine($"wrote {string.Join(", ", written)}");
        if (history.StopReason is { } reason)
        {
            output.WriteLine($"stopped: {reason}");
        }
        output.WriteLine(TrainingFormat.FinalLine(history));
        return 0;
    }

    /// <summary><c>runs/&lt;network&gt;-&lt;yyyyMMdd-HHmmss&gt;</c>, relative to the working directory.</summary>
    public static string DefaultFolder(string network, DateTime at)
        => Path.Combine(RunsFolder, $"{network}-{at.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
}
