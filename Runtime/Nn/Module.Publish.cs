namespace Dsl;

/// <summary>
/// Results that cannot be read stale. A network's values live in planned buffers that the next <c>Forward</c>
/// overwrites (so a training step allocates nothing); each public <c>Forward</c> therefore returns a fresh, small
/// handle over its output buffer stamped with <see cref="OutputVersion"/>, which every <c>Forward</c> advances. Reading a
/// handle after a later <c>Forward</c> throws <see cref="StaleTensorException"/>, naming <c>Clone()</c> and <c>ToArray()</c>.
/// </summary>
public abstract partial class Module
{
    private BufferVersion? _outputVersion;

    /// <summary>The version of this network's output buffers: advanced by every <c>Forward</c>.</summary>
    public BufferVersion OutputVersion
        => _outputVersion ??= new BufferVersion($"a result of {NetworkName}.Forward", $"a later {NetworkName}.Forward");

    /// <summary>
    /// False while the <see cref="Training.Trainer"/> runs its own steps: <see cref="Publish"/> then returns the buffer
    /// itself, so a steady-state step inside <c>Fit</c> allocates nothing (the trainer never keeps a result past its step).
    /// </summary>
    internal bool PublishesOutputs { get; set; } = true;

    /// <summary>
    /// The generated <c>Forward</c> returns its output through this: a new handle over <paramref name="output"/>'s buffer,
    /// stamped with the current <see cref="OutputVersion"/> (one small object; the storage is shared, not copied).
    /// </summary>
    protected Tensor Publish(Tensor output)
        => PublishesOutputs ? output.Stamped(OutputVersion) : output;

    /// <summary>A new Forward overwrites the output buffers: every result handed out so far becomes stale.</summary>
    private void OutputsOverwritten() => OutputVersion.Advance();
}
