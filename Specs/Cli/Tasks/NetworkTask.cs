namespace Specs.Cli;

/// <summary>
/// What a catalog network learns from and how <c>train</c> runs it: one subclass per kind of task (Fashion-MNIST
/// images, fortunes topics, the fortunes character stream), so a new kind is a new class, never a new case of a switch.
/// A text task holds the typed call of its network's <c>Forward</c> (tokens and mask, or tokens alone).
/// </summary>
public abstract class NetworkTask
{
    /// <summary>The data, for <c>list</c>: e.g. <c>Fashion-MNIST images</c>.</summary>
    public abstract string Data { get; }

    /// <summary>
    /// Why <paramref name="settings"/> asks for something this task does not do (an option of another task), or null:
    /// checked with the other options, before anything is read.
    /// </summary>
    public abstract string? Refuse(TrainSettings settings);

    /// <summary>Trains the network of <paramref name="run"/>, prints its figures and writes its files; returns the exit code.</summary>
    public abstract int Train(TrainRun run);

    /// <summary>The error for a command that only measures image networks.</summary>
    public static string NotImages(NetworkInfo info, string command)
        => $"{command} measures image networks; {info.Name} trains on {info.Task.Data}.";
}
