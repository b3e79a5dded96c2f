package v1alpha1

// Condition types shared by bowline's resources. They follow kstatus: Ready is
// the summary, Reconciling says work is in progress, Stalled says progress
// needs a human.
const (
	// ConditionReady is True when the object's desired state is in effect.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the controller is working towards the
	// desired state.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when the controller cannot make progress
	// without a change to the object or its inputs.
	ConditionStalled = "Stalled"
)

// Reasons shared by bowline's resources.
const (
	// ReasonSucceeded means the last reconcile applied the desired state.
	ReasonSucceeded = "Succeeded"
	// ReasonProgressing means a reconcile is under way.
	ReasonProgressing = "Progressing"
	// ReasonSuspended means spec.suspend is set and nothing is reconciled.
	ReasonSuspended = "Suspended"
)
