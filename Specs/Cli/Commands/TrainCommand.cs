using System.Globalization;
using Dsl.Training;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// <c>train &lt;network&gt; [options]</c>: trains a catalog network on its task's data (Fashion-MNIST images, fortunes
/// topics, the fortunes characters: see <see cref="NetworkTask"/>) with the runtime's <see cref="Trainer"/>, shows
/// progress, prints the figures the task reports and writes the run's plot, metrics and weights. The weights are saved
/// after every epoch that ends with finite losses, so a run that diverges keeps its last finite weights and exits with
/// <see cref="Diverged"/>.
/// </summary>
public sealed class TrainCommand(CliOutput cli) : Command<TrainSettings>
{
    /// <summary>Where runs go without <c>--out</c>: ignored by git at any depth.</summary>
    public const string RunsFolder = "runs";

    /// <summary>The exit code of a run whose loss became NaN or infinite.</summary>
    public const int Diverged = 3;

    public override int Execute(CommandContext context, TrainSettings settings, CancellationToken cancellationToken)
    {
        var info = settings.Info;
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
        return info.Task.Train(new TrainRun(cli, info, settings, settings.ApplyTo(info.DefaultRecipe), settings.ResolvedDevice, folder));
    }

    /// <summary><c>runs/&lt;network&gt;-&lt;yyyyMMdd-HHmmss&gt;</c>, relative to the working directory.</summary>
    public static string DefaultFolder(string network, DateTime at)
        => Path.Combine(RunsFolder, $"{network}-{at.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
}
