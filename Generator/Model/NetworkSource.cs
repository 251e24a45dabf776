namespace Dsl.Generator.Model;

/// <summary>
/// What the parser reads from one <c>[Network]</c> class. This record is the first cache boundary:
/// it holds only strings, numbers and equatable arrays, never symbols or syntax, so an edit elsewhere
/// in the project produces an equal value and every later stage is skipped.
/// </summary>
/// <param name="FullName">The namespace-qualified name, case kept: what makes the generated file's hint name unique.</param>
/// <param name="Members">The members the user declared in any part of the class, for the clash check against the generated ones.</param>
/// <param name="Inherited">The members the class inherits from <c>Dsl.Module</c> (which the generated code calls), for the same check.</param>
internal sealed record NetworkSource(
    string? Namespace,
    string ClassName,
    string Accessibility,
    EquatableArray<BlockSource> Blocks,
    EquatableArray<DiagnosticInfo> Diagnostics,
    bool CanEmit,
    LocationInfo Location,
    string FullName,
    EquatableArray<UserMember> Members,
    EquatableArray<UserMember> Inherited)
{
    /// <summary><c>[Network(Fuse = false)]</c>: emit every layer as written (see <c>Emit/Fusion.cs</c>).</summary>
    public bool Fuse { get; init; } = true;
}

/// <summary>What kind of member a declaration is, as C# counts it for name clashes.</summary>
internal enum MemberKind
{
    Field,
    Property,
    Event,
    Method,
    Constructor,
    Type,
}

/// <summary>
/// A member of a network class (one the user wrote, or one the generator writes). Two members clash when they
/// share a name, unless both are methods (or both constructors) whose parameter types differ: C#'s overloading.
/// </summary>
/// <param name="Name">The member's name; <c>.ctor</c> for a constructor.</param>
/// <param name="Parameters">For methods and constructors, each parameter's type as <c>global::</c>-qualified text,
/// prefixed by <c>ref </c>, <c>out </c> or <c>in </c>; empty otherwise.</param>
/// <param name="Location">Where the user declared it; empty for a generated member.</param>
internal sealed record UserMember(string Name, MemberKind Kind, EquatableArray<string> Parameters, LocationInfo Location)
{
    public bool IsInvocable => Kind is MemberKind.Method or MemberKind.Constructor;
}
