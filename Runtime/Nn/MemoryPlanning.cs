namespace Dsl;

/// <summary>
/// A switch for comparisons: networks constructed inside <see cref="Unshared"/> give every planned value and gradient a
/// slot of its own (the layout before memory planning; aliases the plan proved safe stay aliases), so a test can check
/// that sharing memory changes no result. Scoped to the current asynchronous flow, so parallel tests do not see it.
/// </summary>
public static class MemoryPlanning
{
    private static readonly AsyncLocal<bool> s_unshared = new();

    /// <summary>False inside <see cref="Unshared"/>.</summary>
    public static bool Sharing => !s_unshared.Value;

    /// <summary>Until disposed, networks constructed on this flow share no memory between values.</summary>
    public static IDisposable Unshared()
    {
        bool before = s_unshared.Value;
        s_unshared.Value = true;
        return new Restore(before);
    }

    private sealed class Restore(bool before) : IDisposable
    {
        public void Dispose() => s_unshared.Value = before;
    }
}
