package v1alpha1_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestMergePoolValidation: the API server keeps a MergePool's pool fixed
// and its status within bounds.
func TestMergePoolValidation(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	mp := &v1alpha1.MergePool{
		ObjectMeta: metav1.ObjectMeta{Name: "acme-widgets-main", Namespace: ns},
		Spec:       v1alpha1.MergePoolSpec{Org: "acme", Repo: "widgets", Branch: "main"},
	}
	if err := env.Client.Create(ctx, mp); err != nil {
		t.Fatal(err)
	}
	moved := mp.DeepCopy()
	moved.Spec.Branch = "release"
	if err := env.Client.Update(ctx, moved); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "cannot change") {
		t.Errorf("changing the branch: %v, want refused", err)
	}
	tests := []struct {
		name   string
		mutate func(*v1alpha1.MergePoolStatus)
		want   string
	}{
		{name: "a valid status", mutate: func(st *v1alpha1.MergePoolStatus) {
			st.Action = v1alpha1.MergeActionMergeBatch
			st.PullRequests = []v1alpha1.PoolPullRequest{{Number: 1, State: v1alpha1.PoolPRSuccess, TideState: "success", Reason: "In merge pool."}}
		}},
		{name: "an unknown state", mutate: func(st *v1alpha1.MergePoolStatus) {
			st.PullRequests = []v1alpha1.PoolPullRequest{{Number: 1, State: "Merged"}}
		}, want: "Unsupported value"},
		{name: "a reason longer than a GitHub status", mutate: func(st *v1alpha1.MergePoolStatus) {
			st.PullRequests = []v1alpha1.PoolPullRequest{{Number: 1, State: v1alpha1.PoolPRPending, Reason: strings.Repeat("x", 141)}}
		}, want: "Too long"},
		{name: "too many merges kept", mutate: func(st *v1alpha1.MergePoolStatus) {
			st.LastMerges = make([]v1alpha1.PoolMerge, 11)
			for i := range st.LastMerges {
				st.LastMerges[i] = v1alpha1.PoolMerge{Action: v1alpha1.MergeActionMerge, BaseSHA: "a", StartTime: metav1.Now(),
					Pulls: []v1alpha1.PoolPull{{Number: 1, SHA: "b"}}}
			}
		}, want: "Too many"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := &v1alpha1.MergePool{}
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(mp), cur); err != nil {
				t.Fatal(err)
			}
			tt.mutate(&cur.Status)
			err := env.Client.Status().Update(ctx, cur)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}
