using Xunit;

namespace Dsl.Tests.Packaging;

/// <summary>
/// The packaging tests each run several whole builds; one collection runs them one after another so they do not
/// compete with each other for the machine's cores.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PackagingCollection
{
    public const string Name = "Packaging";
}
