namespace Dsl;

public abstract partial class Module
{
    private long _stateVersion;

    /// <summary>
    /// Counts the changes of the network's state outside its parameters' own <see cref="Parameter.Version"/>: a training-mode
    /// forward (batch norm's running statistics move) and a loaded state dict or checkpoint. The folded weights of an
    /// evaluation forward (<see cref="FoldedConv"/>) are recomputed when it or a parameter's version changes.
    /// </summary>
    public long StateVersion => _stateVersion;

    /// <summary>
    /// Marks the network's buffers (batch norm's running statistics) or parameters as changed by code that wrote them
    /// directly, so that the next evaluation forward recomputes what it derives from them.
    /// </summary>
    public void StateChanged() => _stateVersion++;
}
