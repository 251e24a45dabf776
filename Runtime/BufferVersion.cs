namespace Dsl;

/// <summary>
/// The version of buffers that something reuses and overwrites: a network's planned output slots (advanced by every
/// <c>Forward</c>) or a loader's batch tensors (advanced by every batch). The tensors it hands out are small handles
/// stamped with the version they were made at; reading one after the owner has moved on throws
/// <see cref="StaleTensorException"/> instead of silently showing the newer data.
/// </summary>
public sealed class BufferVersion
{
    /// <param name="made">What a stamped tensor is, for the error: "a result of MnistNet.Forward".</param>
    /// <param name="overwrittenBy">What overwrites it: "a later MnistNet.Forward".</param>
    internal BufferVersion(string made, string overwrittenBy)
    {
        Made = made;
        OverwrittenBy = overwrittenBy;
    }

    /// <summary>What a tensor stamped by this owner is ("a result of MnistNet.Forward").</summary>
    public string Made { get; }

    /// <summary>What overwrites such a tensor ("a later MnistNet.Forward").</summary>
    public string OverwrittenBy { get; }

    /// <summary>Advanced each time the owner overwrites its buffers; a handle stamped with an older value is stale.</summary>
    public long Version { get; private set; }

    /// <summary>The owner is about to overwrite its buffers: every handle handed out so far becomes stale.</summary>
    internal void Advance() => Version++;
}
