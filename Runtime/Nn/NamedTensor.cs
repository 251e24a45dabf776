namespace Dsl;

/// <summary>A tensor with its state-dict name (a module buffer such as <c>bn1.running_mean</c>).</summary>
public sealed record NamedTensor(string Name, Tensor Value);
