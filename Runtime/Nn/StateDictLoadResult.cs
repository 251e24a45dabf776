namespace Dsl;

/// <summary>
/// What a non-strict load left out (PyTorch's <c>load_state_dict(strict=False)</c> result): the network's names the
/// source lacked, which keep their values, and the source's names the network does not have, which were ignored.
/// Both are empty after a strict load, which refuses either.
/// </summary>
public sealed record StateDictLoadResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);
