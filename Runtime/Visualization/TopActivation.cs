namespace Dsl.Visualization;

/// <summary>One image of <see cref="TopActivations.Find"/>: its index in the images given and its score.</summary>
public sealed record TopActivation(int Index, float Score);
